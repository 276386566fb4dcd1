//! Atomic file replacement: a crash leaves the old file or the new one, never half of one.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Numbers the temporary files of this process, so that no two writers share one.
static NEXT_TEMPORARY: AtomicU64 = AtomicU64::new(0);

/// Writes a file so that a crash leaves either its old content or its new content: `write`
/// fills a temporary file `<path>.<pid>.<n>.tmp` in the same directory, which is flushed to
/// disk and renamed over `path`. The name is unique to this writer (the process id and a
/// per-process counter, and it is created only if it does not exist), so two processes or
/// threads saving the same path never write into each other's temporary file: the last
/// rename wins, whole. A temporary file left over by a crash is never reused or touched.
/// On failure the temporary file is removed and `path` is untouched.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let (tmp, file) = create_temporary(path)?;
    let written = (|| {
        let mut file = file;
        write(&mut file)?;
        file.sync_all()
    })();
    let renamed = written.and_then(|()| std::fs::rename(&tmp, path));
    if let Err(err) = renamed {
        let _ = std::fs::remove_file(&tmp);
        return Err(err);
    }
    sync_parent(path);
    Ok(())
}

/// Creates a new temporary file beside `path`, named `<file name>.<pid>.<n>.tmp`, skipping
/// names that exist (left by a crashed process that had this one's id).
fn create_temporary(path: &Path) -> std::io::Result<(PathBuf, File)> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    loop {
        let n = NEXT_TEMPORARY.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = name.to_os_string();
        tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        match File::create_new(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
}

/// Flushes the directory entry of a rename to disk, where the platform allows it; the
/// rename itself is already atomic, so a failure here loses nothing but durability.
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        std::fs::write(&path, b"old").unwrap();
        let err = write_atomic(&path, |file| {
            file.write_all(b"half of the new")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["model.safetensors"]);
    }

    #[test]
    fn the_temporary_is_named_for_the_file_and_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let mut seen = None;
        write_atomic(&path, |file| {
            file.write_all(b"new")?;
            seen = Some(names(dir.path()));
            Ok(())
        })
        .unwrap();
        let seen = seen.unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        let prefix = format!("model.safetensors.{}.", std::process::id());
        assert!(
            seen[0].starts_with(&prefix) && seen[0].ends_with(".tmp"),
            "{seen:?}"
        );
        assert_eq!(names(dir.path()), ["model.safetensors"]);
    }

    #[test]
    fn a_leftover_temporary_is_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        std::fs::write(&path, b"old").unwrap();
        // Leftovers of crashed writers: the old scheme's name, and this scheme's names for
        // this process id (as if a crashed process had had it), for the next few numbers.
        let pid = std::process::id();
        let next = NEXT_TEMPORARY.load(Ordering::Relaxed);
        let mut leftovers = vec!["model.safetensors.tmp".to_string()];
        leftovers.extend((next..next + 8).map(|n| format!("model.safetensors.{pid}.{n}.tmp")));
        for name in &leftovers {
            std::fs::write(dir.path().join(name), b"crashed mid-write, long garbage").unwrap();
        }
        write_atomic(&path, |file| file.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        for name in &leftovers {
            let leftover = std::fs::read(dir.path().join(name)).unwrap();
            assert_eq!(leftover, b"crashed mid-write, long garbage", "{name}");
        }
        assert_eq!(names(dir.path()).len(), leftovers.len() + 1);
    }

    /// Writers saving one path at once each fill their own temporary file: every save
    /// succeeds, and the file holds one of them whole. (With one shared `<path>.tmp`, a
    /// writer truncated another's half-written file, or found it renamed away.)
    #[test]
    fn concurrent_writers_do_not_share_a_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let contents: Vec<Vec<u8>> = (0..4u8).map(|w| vec![w; 4096 * (w as usize + 1)]).collect();
        std::thread::scope(|scope| {
            for content in &contents {
                let path = &path;
                scope.spawn(move || {
                    for _ in 0..50 {
                        write_atomic(path, |file| {
                            for chunk in content.chunks(512) {
                                file.write_all(chunk)?;
                                std::thread::yield_now();
                            }
                            Ok(())
                        })
                        .unwrap();
                    }
                });
            }
        });
        let last = std::fs::read(&path).unwrap();
        assert!(
            contents.contains(&last),
            "a mixed file of {} bytes",
            last.len()
        );
        assert_eq!(names(dir.path()), ["model.safetensors"]);
    }
}
