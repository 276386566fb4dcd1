//! The IDX file format of MNIST: reading and writing, raw or gzip-compressed.
//!
//! An IDX file is a 4-byte magic number (two zero bytes, an element type code, the number
//! of dimensions), one big-endian `u32` per dimension, then the elements in row-major
//! order. Only unsigned bytes (type `0x08`), the type of every MNIST file, are read.
//! A file is decompressed when it starts with gzip's magic bytes, whatever its name.

use super::error::{DataError, IdxError};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::{Read, Write};
use std::path::Path;

/// The element type code of unsigned bytes.
const UNSIGNED_BYTE: u8 = 0x08;
/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An array of unsigned bytes read from an IDX file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    /// The size of each dimension, outermost first: `[60000, 28, 28]` for MNIST images.
    pub dims: Vec<usize>,
    /// The elements in row-major order; `dims.iter().product()` of them.
    pub data: Vec<u8>,
}

impl Idx {
    /// The IDX magic number: `0x0803` (2051) for a 3-d byte array such as MNIST images,
    /// `0x0801` (2049) for a 1-d one such as labels.
    pub fn magic(&self) -> u32 {
        (u32::from(UNSIGNED_BYTE) << 8) | self.dims.len() as u32
    }

    /// Decodes an IDX byte string, decompressing it first if it is gzip data.
    ///
    /// ```
    /// use typenet::data::Idx;
    /// let labels = Idx { dims: vec![3], data: vec![7, 2, 1] };
    /// assert_eq!(Idx::decode(&labels.encode()).unwrap(), labels);
    /// assert!(Idx::decode(b"not idx").is_err());
    /// ```
    ///
    /// Decompression is bounded by the header: it stops one byte past the size the header
    /// describes, and more is [`IdxError::GzipTrailingBytes`], so a small file that inflates
    /// without end costs no more memory than its header declares.
    pub fn decode(bytes: &[u8]) -> Result<Self, IdxError> {
        if bytes.starts_with(&GZIP_MAGIC) {
            let raw = gunzip_bounded(bytes)?;
            Self::decode_raw(&raw)
        } else {
            Self::decode_raw(bytes)
        }
    }

    /// Decodes uncompressed IDX bytes. Checks every size against the input's length
    /// before it allocates, so a lying header cannot make it allocate much.
    fn decode_raw(bytes: &[u8]) -> Result<Self, IdxError> {
        let truncated = |expected| IdxError::Truncated {
            expected,
            found: bytes.len(),
        };
        let magic = bytes.get(..4).ok_or_else(|| truncated(4))?;
        if magic[..2] != [0, 0] {
            return Err(IdxError::NotIdx(format!(
                "magic number {:#010x} does not start with two zero bytes",
                u32::from_be_bytes([magic[0], magic[1], magic[2], magic[3]])
            )));
        }
        if magic[2] != UNSIGNED_BYTE {
            return Err(IdxError::UnsupportedType { code: magic[2] });
        }
        let rank = usize::from(magic[3]);
        if rank == 0 {
            return Err(IdxError::NotIdx("zero dimensions".into()));
        }
        let header_len = 4 + 4 * rank;
        let header = bytes
            .get(4..header_len)
            .ok_or_else(|| truncated(header_len))?;
        let dims: Vec<usize> = header
            .chunks_exact(4)
            .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
            .collect();
        let expected = dims
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .and_then(|n| n.checked_add(header_len))
            .ok_or_else(|| IdxError::NotIdx(format!("dimensions {dims:?} overflow")))?;
        match bytes.len() {
            len if len < expected => Err(truncated(expected)),
            len if len > expected => Err(IdxError::TrailingBytes {
                expected,
                extra: len - expected,
            }),
            _ => Ok(Idx {
                dims,
                data: bytes[header_len..].to_vec(),
            }),
        }
    }

    /// Encodes this array as uncompressed IDX bytes.
    ///
    /// # Panics
    /// Where [`try_encode`](Self::try_encode) errors: a dimension exceeds `u32::MAX`, there
    /// are no or more than 255 dimensions, or `data` does not hold `dims.iter().product()`
    /// elements.
    pub fn encode(&self) -> Vec<u8> {
        match self.try_encode() {
            Ok(bytes) => bytes,
            Err(err) => panic!("{err}"),
        }
    }

    /// Encodes this array as uncompressed IDX bytes, or says why it cannot be IDX: an
    /// [`InvalidInput`](std::io::ErrorKind::InvalidInput) error for no or more than 255
    /// dimensions, a dimension over `u32::MAX`, or `data` not holding `dims.iter().product()`
    /// elements.
    ///
    /// ```
    /// use typenet::data::Idx;
    /// let bad = Idx { dims: vec![3], data: vec![1] };
    /// let err = bad.try_encode().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn try_encode(&self) -> std::io::Result<Vec<u8>> {
        let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg);
        let rank = match u8::try_from(self.dims.len()) {
            Ok(0) => return Err(invalid("an IDX array needs at least one dimension".into())),
            Ok(rank) => rank,
            Err(_) => {
                return Err(invalid(format!(
                    "IDX holds at most 255 dimensions, this array has {}; reshape it",
                    self.dims.len()
                )))
            }
        };
        let mut header = Vec::with_capacity(4 + 4 * self.dims.len());
        header.extend_from_slice(&[0, 0, UNSIGNED_BYTE, rank]);
        for (i, &d) in self.dims.iter().enumerate() {
            let d = u32::try_from(d).map_err(|_| {
                invalid(format!(
                    "IDX dimensions are u32, but dimension {i} is {d} (over {}); split the array",
                    u32::MAX
                ))
            })?;
            header.extend_from_slice(&d.to_be_bytes());
        }
        let expected = self.dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if expected != Some(self.data.len()) {
            return Err(invalid(format!(
                "dimensions {:?} describe {} elements, but data holds {}; make them agree",
                self.dims,
                expected.map_or_else(|| "more than usize::MAX".into(), |n| n.to_string()),
                self.data.len()
            )));
        }
        let mut bytes = header;
        bytes.extend_from_slice(&self.data);
        Ok(bytes)
    }

    /// Reads an IDX file, raw or gzip-compressed.
    ///
    /// Errors: [`DataError::NotFound`] for a missing file, [`DataError::Io`] for one that
    /// cannot be read, [`DataError::Idx`] for one that is not well-formed IDX data.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => DataError::NotFound { path: path.into() },
            _ => DataError::Io {
                path: path.into(),
                source,
            },
        })?;
        Self::decode(&bytes).map_err(|source| DataError::Idx {
            path: path.into(),
            source,
        })
    }

    /// Writes this array as an IDX file, gzip-compressed if `gzip` is true.
    ///
    /// An array that is not valid IDX (see [`try_encode`](Self::try_encode)) is an
    /// [`InvalidInput`](std::io::ErrorKind::InvalidInput) error, and no file is written.
    pub fn write(&self, path: impl AsRef<Path>, gzip: bool) -> std::io::Result<()> {
        let raw = self.try_encode()?;
        let bytes = if gzip {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(&raw)?;
            encoder.finish()?
        } else {
            raw
        };
        std::fs::write(path, bytes)
    }
}

/// Decompresses gzip data holding IDX, reading no more than the IDX header describes plus
/// one byte: the header first, then at most the data it describes and one byte more, which
/// if present is [`IdxError::GzipTrailingBytes`]. A short or malformed header is returned
/// as it is, for [`Idx::decode_raw`] to name what is wrong with it.
fn gunzip_bounded(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    let mut decoder = GzDecoder::new(bytes);
    let mut raw = Vec::new();
    // The magic number; its last byte is the rank.
    read_up_to(&mut decoder, &mut raw, 4)?;
    if raw.len() < 4 || raw[..3] != [0, 0, UNSIGNED_BYTE] {
        return Ok(raw);
    }
    let header_len = 4 + 4 * usize::from(raw[3]);
    read_up_to(&mut decoder, &mut raw, header_len - 4)?;
    if raw.len() < header_len {
        return Ok(raw);
    }
    // An overflowing size is left for `decode_raw` to report.
    let data_len = raw[4..header_len]
        .chunks_exact(4)
        .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        .try_fold(1usize, usize::checked_mul);
    let Some(total) = data_len.and_then(|n| n.checked_add(header_len)) else {
        return Ok(raw);
    };
    read_up_to(&mut decoder, &mut raw, total - header_len + 1)?;
    if raw.len() > total {
        return Err(IdxError::GzipTrailingBytes { expected: total });
    }
    Ok(raw)
}

/// Appends at most `limit` more bytes of `reader` to `out` (fewer at the end of the stream).
fn read_up_to(reader: &mut impl Read, out: &mut Vec<u8>, limit: usize) -> Result<(), IdxError> {
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    reader
        .take(limit)
        .read_to_end(out)
        .map(drop)
        .map_err(IdxError::Gzip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn images() -> Idx {
        Idx {
            dims: vec![3, 4, 5],
            data: (0..60).map(|i| (i * 7 % 256) as u8).collect(),
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn raw_and_gzip_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        for gz in [false, true] {
            let path = dir.path().join(format!("images-{gz}"));
            images().write(&path, gz).unwrap();
            let on_disk = std::fs::read(&path).unwrap();
            assert_eq!(on_disk.starts_with(&GZIP_MAGIC), gz);
            assert_eq!(Idx::read(&path).unwrap(), images());
        }
    }

    /// Each of these asserted (panicked) in `encode`, although `write` returns `io::Result`.
    #[test]
    fn writing_an_invalid_array_is_an_invalid_input_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad");
        let cases = [
            (vec![3], vec![1], "describe 3 elements, but data holds 1"),
            (vec![1; 256], vec![0], "at most 255 dimensions"),
            (vec![1 << 33], vec![], "dimension 0 is 8589934592"),
            (vec![], vec![], "at least one dimension"),
            (
                vec![1 << 31, 1 << 31, 1 << 31],
                vec![],
                "more than usize::MAX",
            ),
        ];
        for (dims, data, message) in cases {
            let idx = Idx { dims, data };
            for gz in [false, true] {
                let err = idx.write(&path, gz).unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
                assert!(err.to_string().contains(message), "{err}");
                assert!(!path.exists());
            }
        }
    }

    /// A gzip stream that inflates far beyond its header is cut one byte past the header's
    /// size, not decompressed to the end.
    #[test]
    fn gzip_decompression_stops_at_the_declared_size() {
        let mut raw = Idx {
            dims: vec![2, 2],
            data: vec![1, 2, 3, 4],
        }
        .encode();
        // 64 MiB of zeros after the 4 declared bytes: about 64 KiB compressed.
        raw.resize(raw.len() + (64 << 20), 0);
        let bomb = gzip(&raw);
        assert!(bomb.len() < 1 << 20);
        let err = Idx::decode(&bomb).unwrap_err();
        assert!(
            matches!(err, IdxError::GzipTrailingBytes { expected: 16 }),
            "{err}"
        );
        // Bounded reading still checks the gzip trailer of an exact file.
        let exact = gzip(&images().encode());
        assert_eq!(Idx::decode(&exact).unwrap(), images());
        let mut bad_crc = exact.clone();
        let crc_at = bad_crc.len() - 8;
        bad_crc[crc_at] ^= 0xff;
        assert!(matches!(Idx::decode(&bad_crc), Err(IdxError::Gzip(_))));
        // Headers that are cut short or malformed inside gzip are named as when raw.
        assert!(matches!(
            Idx::decode(&gzip(&[0, 0, 8, 2, 0])),
            Err(IdxError::Truncated { .. })
        ));
        assert!(matches!(
            Idx::decode(&gzip(&[0, 0, 0x0d, 1, 0, 0, 0, 0])),
            Err(IdxError::UnsupportedType { code: 0x0d })
        ));
    }

    #[test]
    fn magic_numbers_are_those_of_mnist() {
        assert_eq!(images().magic(), 2051);
        let labels = Idx {
            dims: vec![2],
            data: vec![0, 9],
        };
        assert_eq!(labels.magic(), 2049);
        assert_eq!(&labels.encode()[..4], &2049u32.to_be_bytes());
    }

    #[test]
    fn a_missing_file_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let err = Idx::read(dir.path().join("nope")).unwrap_err();
        assert!(matches!(err, DataError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("nope"));
    }

    #[test]
    fn every_truncation_of_a_valid_file_is_an_error() {
        let raw = images().encode();
        for len in 0..raw.len() {
            let err = Idx::decode(&raw[..len]).unwrap_err();
            assert!(matches!(err, IdxError::Truncated { .. }), "{len}: {err}");
        }
        let gz = gzip(&raw);
        for len in 2..gz.len() {
            assert!(Idx::decode(&gz[..len]).is_err(), "gzip cut at {len}");
        }
    }

    #[test]
    fn header_errors_are_named() {
        let mut bad_magic = images().encode();
        bad_magic[0] = 0x12;
        assert!(matches!(
            Idx::decode(&bad_magic),
            Err(IdxError::NotIdx(msg)) if msg.contains("0x12000803")
        ));

        let mut floats = images().encode();
        floats[2] = 0x0d;
        assert!(matches!(
            Idx::decode(&floats),
            Err(IdxError::UnsupportedType { code: 0x0d })
        ));

        let mut longer = images().encode();
        longer.push(0);
        assert!(matches!(
            Idx::decode(&longer),
            Err(IdxError::TrailingBytes { extra: 1, .. })
        ));

        assert!(matches!(
            Idx::decode(&[0, 0, 8, 0]),
            Err(IdxError::NotIdx(_))
        ));

        // A header claiming 2^32-1 x 2^32-1 x ... elements overflows instead of allocating.
        let mut huge = vec![0, 0, 8, 4];
        huge.extend_from_slice(&[0xff; 16]);
        assert!(Idx::decode(&huge).is_err());
    }

    #[test]
    fn a_lying_header_is_truncated_not_allocated() {
        let mut bytes = vec![0, 0, 8, 2];
        bytes.extend_from_slice(&60_000u32.to_be_bytes());
        bytes.extend_from_slice(&60_000u32.to_be_bytes());
        bytes.extend_from_slice(&[1, 2, 3]);
        assert!(matches!(
            Idx::decode(&bytes),
            Err(IdxError::Truncated {
                expected: 3_600_000_012,
                found: 15
            })
        ));
    }

    /// Property: random byte strings, raw and gzip-wrapped, and random truncations of
    /// valid files are rejected with an error; the reader never panics.
    #[test]
    fn random_bytes_never_panic() {
        let mut rng = StdRng::seed_from_u64(0x1d8);
        let valid = images().encode();
        let valid_gz = gzip(&valid);
        for case in 0..3000 {
            let len = rng.gen_range(0..64);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            // Half the cases start like IDX, so the header parser is exercised past byte 4.
            if case % 2 == 0 && bytes.len() >= 4 {
                bytes[..3].copy_from_slice(&[0, 0, UNSIGNED_BYTE]);
                bytes[3] %= 5;
            }
            assert!(Idx::decode(&bytes).is_err(), "case {case}: {bytes:?}");
            if case % 10 == 0 {
                assert!(Idx::decode(&gzip(&bytes)).is_err(), "gzip case {case}");
            }

            let cut = rng.gen_range(0..valid.len());
            assert!(Idx::decode(&valid[..cut]).is_err(), "cut at {cut}");
            let cut = rng.gen_range(0..valid_gz.len());
            assert!(Idx::decode(&valid_gz[..cut]).is_err(), "gzip cut at {cut}");
        }
    }
}
