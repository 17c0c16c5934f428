//! Phase 1: read. Find a module file and read it, inside the guest, through
//! WASI: a plugin can only come from where the program itself could read.
//!
//! Search order (glibc's, minus the ld.so cache): a name containing `/` is a
//! path, used as is; otherwise each directory of `LD_LIBRARY_PATH` (colon
//! separated; an empty entry means the current directory), then the
//! requesting module's `WASM_DYLINK_RUNTIME_PATH` entries (the equivalent of
//! ELF's DT_RUNPATH), where `$ORIGIN` and `${ORIGIN}` stand for the directory
//! of the requesting module, then `/lib`, then `/usr/lib`. The first file that
//! opens wins.
//!
//! Paths are resolved against the preopened directories the way wasi-libc
//! does: the working directory is `/`, the preopen whose name is the longest
//! component-wise prefix of the path is used, and `.` matches any path.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{errno, Error, Result};
use crate::host::{FileId, Host};

/// Default directories searched after `LD_LIBRARY_PATH`.
pub const DEFAULT_DIRS: [&str; 2] = ["/lib", "/usr/lib"];

/// The directory part of a path (`.` if none).
pub fn dirname(path: &str) -> String {
    match path.rfind('/') {
        Some(0) => String::from("/"),
        Some(i) => String::from(path.get(..i).unwrap_or(".")),
        None => String::from("."),
    }
}

/// A RUNTIME_PATH entry with `$ORIGIN`/`${ORIGIN}` replaced. An entry that
/// uses `$ORIGIN` when the origin is unknown is dropped (glibc ignores it too).
pub fn expand_origin(entry: &str, origin: Option<&str>) -> Option<String> {
    if !entry.contains("$ORIGIN") && !entry.contains("${ORIGIN}") {
        return Some(String::from(entry));
    }
    let origin = origin?;
    Some(
        entry
            .replace("${ORIGIN}", origin)
            .replace("$ORIGIN", origin),
    )
}

/// The paths to try for `name`, in order.
pub fn candidates(
    name: &str,
    ld_library_path: Option<&str>,
    runtime_path: &[String],
    origin: Option<&str>,
) -> Vec<String> {
    if name.contains('/') {
        return alloc::vec![String::from(name)];
    }
    let mut out = Vec::new();
    let mut push = |dir: &str| {
        let dir = if dir.is_empty() { "." } else { dir };
        let mut p = String::from(dir);
        if !p.ends_with('/') {
            p.push('/');
        }
        p.push_str(name);
        if !out.contains(&p) {
            out.push(p);
        }
    };
    if let Some(lp) = ld_library_path {
        for dir in lp.split(':') {
            push(dir);
        }
    }
    for entry in runtime_path {
        if let Some(dir) = expand_origin(entry, origin) {
            push(&dir);
        }
    }
    for dir in DEFAULT_DIRS {
        push(dir);
    }
    out
}

/// Path components with `.` and empty ones dropped, and `..` applied (never
/// above the root, as with a working directory of `/`).
fn components(path: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// The preopen to open `path` under, and the path relative to it.
pub fn find_preopen(preopens: &[(u32, String)], path: &str) -> Option<(u32, String)> {
    let want = components(path);
    let mut best: Option<(usize, u32)> = None;
    for (fd, name) in preopens {
        let have = components(name);
        if want.len() >= have.len() && want.iter().zip(have.iter()).all(|(a, b)| a == b) {
            // Longest prefix wins; among equals, the later preopen (as wasi-libc).
            if best.is_none_or(|(len, _)| have.len() >= len) {
                best = Some((have.len(), *fd));
            }
        }
    }
    let (skip, fd) = best?;
    let rest = want.get(skip..)?;
    let rel = if rest.is_empty() {
        String::from(".")
    } else {
        rest.join("/")
    };
    Some((fd, rel))
}

/// Reads the module `name`, searched for on behalf of a module with the given
/// RUNTIME_PATH and directory (`origin`). Returns the path, the bytes and
/// the file's identity.
pub fn read_module(
    host: &mut dyn Host,
    name: &str,
    runtime_path: &[String],
    origin: Option<&str>,
    trace: bool,
) -> Result<(String, Vec<u8>, Option<FileId>)> {
    let lp = if name.contains('/') {
        None
    } else {
        host.getenv("LD_LIBRARY_PATH")
    };
    let mut first_error: Option<u16> = None;
    if trace {
        host.stderr(&alloc::format!("libdl: find library={name}; searching\n"));
    }
    for path in candidates(name, lp.as_deref(), runtime_path, origin) {
        if trace {
            host.stderr(&alloc::format!("libdl:   trying file={path}\n"));
        }
        match host.read_file(&path) {
            Ok((bytes, file)) => return Ok((path, bytes, file)),
            Err(e) => {
                if e != errno::NOENT && e != errno::NOTDIR && first_error.is_none() {
                    first_error = Some(e);
                }
            }
        }
    }
    Err(Error::Open {
        errno: first_error.unwrap_or(errno::NOENT),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn search_order() {
        assert_eq!(candidates("./a.so", Some("/x"), &[], None), ["./a.so"]);
        assert_eq!(candidates("/p/a.so", None, &[], None), ["/p/a.so"]);
        assert_eq!(
            candidates("a.so", None, &[], None),
            ["/lib/a.so", "/usr/lib/a.so"]
        );
        assert_eq!(
            candidates("a.so", Some("/x:/y/::/lib"), &[], None),
            ["/x/a.so", "/y/a.so", "./a.so", "/lib/a.so", "/usr/lib/a.so"]
        );
        let rpath = [
            "$ORIGIN/deps".to_string(),
            "${ORIGIN}/../lib".to_string(),
            "/opt".to_string(),
        ];
        assert_eq!(
            candidates("a.so", Some("/x"), &rpath, Some("/p/plugins")),
            [
                "/x/a.so",
                "/p/plugins/deps/a.so",
                "/p/plugins/../lib/a.so",
                "/opt/a.so",
                "/lib/a.so",
                "/usr/lib/a.so"
            ]
        );
        // $ORIGIN without a known origin is dropped.
        assert_eq!(
            candidates("a.so", None, &rpath[..1], None),
            ["/lib/a.so", "/usr/lib/a.so"]
        );
        assert_eq!(dirname("/p/x/a.so"), "/p/x");
        assert_eq!(dirname("/a.so"), "/");
        assert_eq!(dirname("a.so"), ".");
    }

    #[test]
    fn preopen_matching() {
        let pre = [
            (3, ".".to_string()),
            (4, "/plugins".to_string()),
            (5, "plugins/deep".to_string()),
        ];
        assert_eq!(
            find_preopen(&pre, "/plugins/a.so"),
            Some((4, "a.so".into()))
        );
        assert_eq!(find_preopen(&pre, "plugins/a.so"), Some((4, "a.so".into())));
        assert_eq!(
            find_preopen(&pre, "/plugins/deep/x/b.so"),
            Some((5, "x/b.so".into()))
        );
        assert_eq!(
            find_preopen(&pre, "other/c.so"),
            Some((3, "other/c.so".into()))
        );
        assert_eq!(
            find_preopen(&pre, "/plugins/../etc/x"),
            Some((3, "etc/x".into()))
        );
        let only = [(3, "/plugins".to_string())];
        assert_eq!(find_preopen(&only, "/etc/passwd"), None);
        assert_eq!(find_preopen(&only, "/pluginsX/a.so"), None);
        assert_eq!(find_preopen(&[], "a.so"), None);
    }
}
