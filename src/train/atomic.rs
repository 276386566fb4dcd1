//! Atomic file replacement: a crash leaves the old file or the new one, never half of one.

use std::fs::File;
use std::path::Path;

/// Writes a file so that a crash leaves either its old content or its new content: `write`
/// fills `<path>.tmp` in the same directory, which is flushed to disk and renamed over
/// `path`. A temporary file left over by a crash is overwritten. On failure the temporary
/// file is removed and `path` is untouched.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let written = File::create(&tmp).and_then(|mut file| {
        write(&mut file)?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&tmp, path));
    if let Err(err) = renamed {
        let _ = std::fs::remove_file(&tmp);
        return Err(err);
    }
    sync_parent(path);
    Ok(())
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
        assert!(!dir.path().join("model.safetensors.tmp").exists());
    }

    #[test]
    fn a_leftover_temporary_is_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        std::fs::write(
            dir.path().join("model.safetensors.tmp"),
            b"crashed mid-write, long garbage",
        )
        .unwrap();
        write_atomic(&path, |file| file.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert!(!dir.path().join("model.safetensors.tmp").exists());
    }
}
