//! MNIST: the standard four IDX files from a directory, as train and test sets.

use super::dataset::{Dataset, Samples};
use super::error::DataError;
use super::idx::Idx;
use std::path::{Path, PathBuf};

/// The magic number of an IDX file of 3-d byte arrays (images).
const IMAGES_MAGIC: u32 = 2051;
/// The magic number of an IDX file of 1-d byte arrays (labels).
const LABELS_MAGIC: u32 = 2049;

/// The MNIST digits: 28x28 grey images scaled to `[0, 1]`, labelled 0 to 9.
///
/// ```
/// use typenet::data::Mnist;
/// let mnist = Mnist::shipped().unwrap();
/// assert_eq!((mnist.train.len(), mnist.test.len()), (8_000, 2_000));
/// assert_eq!(mnist.train.samples().shape(), &[28, 28]);
/// ```
#[derive(Clone, Debug)]
pub struct Mnist {
    /// The training set.
    pub train: Dataset,
    /// The test set.
    pub test: Dataset,
}

impl Mnist {
    /// The directory of the 10,000 digits shipped with typenet (8,000 train, 2,000 test).
    pub const SHIPPED_DIR: &'static str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist");

    /// Reads `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`
    /// and `t10k-labels-idx1-ubyte` from `dir`, each raw or with a `.gz` suffix: the full
    /// 60,000/10,000 set as distributed, or the shipped subset.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, DataError> {
        let dir = dir.as_ref();
        let split = |prefix: &str| -> Result<Dataset, DataError> {
            read_split(
                &find(dir, &format!("{prefix}-images-idx3-ubyte"))?,
                &find(dir, &format!("{prefix}-labels-idx1-ubyte"))?,
            )
        };
        Ok(Mnist {
            train: split("train")?,
            test: split("t10k")?,
        })
    }

    /// Reads the digits shipped in the repository (see `data/mnist/README.md`).
    pub fn shipped() -> Result<Self, DataError> {
        Self::load(Self::SHIPPED_DIR)
    }
}

/// Reads one images file and its labels file into a data set of `[rows, cols]` samples
/// with pixels scaled to `[0, 1]`.
///
/// Errors: those of [`Idx::read`], [`DataError::WrongMagic`] for a file holding
/// another kind of array, [`DataError::CountMismatch`] for counts that differ.
pub fn read_split(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
    let pixels = read_expecting(images, IMAGES_MAGIC)?;
    let classes = read_expecting(labels, LABELS_MAGIC)?;
    let (n_images, n_labels) = (pixels.dims[0], classes.dims[0]);
    if n_images != n_labels {
        return Err(DataError::CountMismatch {
            images: n_images,
            labels: n_labels,
        });
    }
    let scaled = pixels.data.iter().map(|&p| f32::from(p) / 255.0).collect();
    let samples = Samples::new(scaled, pixels.dims[1..].to_vec())?;
    Dataset::new(
        samples,
        classes.data.iter().map(|&c| usize::from(c)).collect(),
    )
}

fn read_expecting(path: &Path, magic: u32) -> Result<Idx, DataError> {
    let idx = Idx::read(path)?;
    if idx.magic() != magic {
        return Err(DataError::WrongMagic {
            path: path.into(),
            expected: magic,
            found: idx.magic(),
        });
    }
    Ok(idx)
}

/// `dir/name.gz` if it exists, else `dir/name` if it exists.
fn find(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    [format!("{name}.gz"), name.to_string()]
        .into_iter()
        .map(|file| dir.join(file))
        .find(|path| path.is_file())
        .ok_or_else(|| DataError::MissingFile {
            dir: dir.into(),
            name: name.into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a tiny MNIST-shaped directory: `n` 2x3 images whose pixels are all the
    /// label times 25, and `n_labels` labels.
    fn write_tiny(dir: &Path, n: usize, n_labels: usize, gzip: bool) {
        let suffix = if gzip { ".gz" } else { "" };
        for prefix in ["train", "t10k"] {
            let labels: Vec<u8> = (0..n_labels).map(|i| (i % 10) as u8).collect();
            let pixels = (0..n).flat_map(|i| [(i % 10) as u8 * 25; 6]).collect();
            Idx {
                dims: vec![n, 2, 3],
                data: pixels,
            }
            .write(
                dir.join(format!("{prefix}-images-idx3-ubyte{suffix}")),
                gzip,
            )
            .unwrap();
            Idx {
                dims: vec![n_labels],
                data: labels,
            }
            .write(
                dir.join(format!("{prefix}-labels-idx1-ubyte{suffix}")),
                gzip,
            )
            .unwrap();
        }
    }

    #[test]
    fn reads_raw_and_gzip_directories_scaled_to_unit() {
        for gzip in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            write_tiny(dir.path(), 12, 12, gzip);
            let mnist = Mnist::load(dir.path()).unwrap();
            assert_eq!(mnist.train.len(), 12);
            assert_eq!(mnist.test.samples().shape(), &[2, 3]);
            assert_eq!(mnist.train.labels()[11], 1);
            assert_eq!(mnist.train.samples().row(9), &[225.0 / 255.0; 6]);
            assert!(mnist
                .train
                .samples()
                .as_slice()
                .iter()
                .all(|p| (0.0..=1.0).contains(p)));
        }
    }

    #[test]
    fn counts_that_differ_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny(dir.path(), 5, 4, true);
        let err = Mnist::load(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::CountMismatch {
                    images: 5,
                    labels: 4
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn labels_where_images_belong_is_a_wrong_magic() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny(dir.path(), 3, 3, false);
        std::fs::copy(
            dir.path().join("train-labels-idx1-ubyte"),
            dir.path().join("train-images-idx3-ubyte"),
        )
        .unwrap();
        let err = Mnist::load(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::WrongMagic {
                    expected: 2051,
                    found: 2049,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("train-images-idx3-ubyte"));
    }

    #[test]
    fn missing_truncated_and_foreign_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = Mnist::load(dir.path()).unwrap_err();
        assert!(matches!(err, DataError::MissingFile { .. }), "{err}");
        assert!(err.to_string().contains("train-images-idx3-ubyte.gz"));

        write_tiny(dir.path(), 3, 3, false);
        let images = dir.path().join("t10k-images-idx3-ubyte");
        let bytes = std::fs::read(&images).unwrap();
        std::fs::write(&images, &bytes[..bytes.len() - 1]).unwrap();
        let err = Mnist::load(dir.path()).unwrap_err();
        assert!(
            matches!(&err, DataError::Idx { source: crate::data::IdxError::Truncated { .. }, path } if path == &images),
            "{err}"
        );

        std::fs::write(&images, b"<html>404 not found</html>").unwrap();
        let err = Mnist::load(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::Idx {
                    source: crate::data::IdxError::NotIdx(_),
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn the_shipped_digits_are_all_there() {
        let mnist = Mnist::shipped().unwrap();
        assert_eq!((mnist.train.len(), mnist.test.len()), (8_000, 2_000));
        assert_eq!(mnist.train.samples().shape(), &[28, 28]);
        assert!(mnist.train.labels().iter().all(|&l| l < 10));
        // Every digit occurs, and the pixels span the whole range.
        for digit in 0..10 {
            assert!(mnist.test.labels().contains(&digit));
        }
        let pixels = mnist.train.samples().as_slice();
        assert_eq!(pixels.iter().cloned().fold(f32::MAX, f32::min), 0.0);
        assert_eq!(pixels.iter().cloned().fold(f32::MIN, f32::max), 1.0);
    }
}
