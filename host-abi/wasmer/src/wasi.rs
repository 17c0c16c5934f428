//! WASI preview 1 for the process, from wasmer-wasix.
//!
//! wasmer-wasix implements WASI preview 1 and WASIX. Only its preview 1
//! functions (import module `wasi_snapshot_preview1`) are used: WASIX's
//! dynamic linker, threads and other import modules are not offered to
//! guests (libdl.so is the linker here).
//!
//! How it is set up, and why:
//!
//! * **Memory.** wasmer-wasix's functions use the memory their environment
//!   was initialised with, not their caller's `memory` export. The
//!   environment is initialised with the process memory and an empty
//!   "anchor" instance (`initialize_handles_and_layout`): libdl.so and side
//!   modules export no memory, a PIE program is not instantiated by the
//!   runner at all, and the anchor keeps wasmer-wasix from treating any
//!   guest's exports (`_start`, `__stack_pointer`, `asyncify_*`) as the
//!   process's. So every module, whatever it exports, reaches WASI on the
//!   process memory.
//! * **Directories**, as Wasmer's own runner lays them out: the guest's `/`
//!   is a mount table (`MountFileSystem`) over an empty read-only root, and
//!   `--dir HOST::GUEST` mounts HOST (a host file system rooted at HOST, so
//!   nothing above it is reachable) at `/GUEST` and preopens it under the
//!   name GUEST, as wasmtime does. Mounts, not plain preopened host paths,
//!   because wasmer-wasix resolves a symbolic link through the mount that
//!   holds it: with a preopen of a host path, a link to a sibling file
//!   resolves to a host path from the virtual root, and fails.
//! * **Errors outside the preopens.** wasmer-wasix always preopens a virtual
//!   root as fd 3 (named `/`), which holds the preopens and answers
//!   ENOTCAPABLE for any other name; wasi-libc sends it every absolute path
//!   that no other preopen matches. The mount table's `/` is preopened too
//!   (last), which wasmer-wasix's resolver consults for names the virtual
//!   root lacks, so such paths get ENOENT, as on wasmtime. Guest-visible
//!   differences from wasmtime: the first `--dir` is fd 4, not 3, and two
//!   more preopens named `/` follow the others' order (3 before them, the
//!   last after them).
//! * **Standard streams** are written and read synchronously, with
//!   `std::io`. wasmer-wasix's own stdio goes through Tokio's, which hands
//!   each write to a blocking thread and returns before it is done: output
//!   still in flight when the process exits would be lost, and stdout and
//!   stderr could be reordered.
//! * wasmer-wasix needs a Tokio runtime for its task manager and for file
//!   I/O; `process.rs` makes one and enters it for the life of the process.

use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};
use wasmer::{Engine, Extern, Instance, Memory, Module, Store, Table};
use wasmer_wasix::virtual_fs::{self, EmptyFileSystem, FileSystem, MountFileSystem, VirtualFile};
use wasmer_wasix::{
    WasiEnv, WasiFunctionEnv, WasiModuleInstanceHandles, WasiModuleTreeHandles, WasiVersion,
};

use crate::WASI_MODULE;

/// What a program sees of the host: its arguments, environment and
/// preopened directories.
pub struct WasiConfig<'a> {
    /// `argv[0]`.
    pub program_name: &'a str,
    /// `argv[1..]`.
    pub args: &'a [String],
    pub env: &'a [(String, String)],
    /// Preopened directories: (host path, guest path).
    pub dirs: &'a [(PathBuf, String)],
}

/// WASI for a process with memory `memory` and table `table`: the
/// environment, and the preview 1 functions made in `store` (name,
/// function), for `IMPORT_HOST` and the bootstrap.
pub fn wasi_functions(
    store: &mut Store,
    engine: &Engine,
    config: &WasiConfig<'_>,
    memory: &Memory,
    table: &Table,
) -> Result<(WasiFunctionEnv, Vec<(String, Extern)>), String> {
    let handle = tokio::runtime::Handle::try_current()
        .map_err(|_| "WASI needs a Tokio runtime (process.rs enters one)".to_string())?;
    let mut builder = WasiEnv::builder(config.program_name)
        .args(config.args)
        .envs(config.env.iter().map(|(k, v)| (k.clone(), v.clone())))
        .engine(engine.clone())
        .stdin(Box::new(Stdio::In))
        .stdout(Box::new(Stdio::Out))
        .stderr(Box::new(Stdio::Err));
    // The guest's file system: an empty, read-only `/` with each host
    // directory mounted at its guest path, and preopened under its guest
    // name.
    let mounts = MountFileSystem::new();
    let empty: Arc<dyn FileSystem + Send + Sync> = Arc::new(EmptyFileSystem::default());
    mounts
        .mount(Path::new("/"), empty)
        .map_err(|e| format!("cannot make the root directory: {e}"))?;
    for (host, guest) in config.dirs {
        let source = absolute(host)?;
        let at = mount_point(guest);
        let fs: Arc<dyn FileSystem + Send + Sync> = Arc::new(
            virtual_fs::host_fs::FileSystem::new(handle.clone(), &source)
                .map_err(|e| format!("cannot open directory {}: {e}", host.display()))?,
        );
        let mounted = if at == Path::new("/") {
            mounts.set_mount(&at, fs)
        } else {
            mounts.mount(&at, fs)
        };
        mounted.map_err(|e| format!("cannot preopen {} as {guest}: {e}", host.display()))?;
        if at == Path::new("/") {
            continue; // the preopen of `/` below is this one
        }
        builder
            .add_preopen_build(|p| {
                p.directory(&at)
                    .alias(guest)
                    .read(true)
                    .write(true)
                    .create(true)
            })
            .map_err(|e| format!("cannot preopen {} as {guest}: {e}", host.display()))?;
    }
    // `/` itself, last: wasi-libc resolves a path to the preopen with the
    // longest matching prefix, so this one only gets paths outside every
    // directory given, which then do not exist (ENOENT, as on wasmtime).
    // Without it they would reach the virtual root, whose answer is
    // ENOTCAPABLE.
    let root_writable = config
        .dirs
        .iter()
        .any(|(_, g)| mount_point(g) == Path::new("/"));
    builder
        .add_preopen_build(|p| {
            p.directory("/")
                .read(true)
                .write(root_writable)
                .create(root_writable)
        })
        .map_err(|e| format!("cannot preopen /: {e}"))?;
    builder = builder.sandbox_fs(mounts);
    let env = builder
        .build()
        .map_err(|e| format!("cannot set up WASI: {e}"))?;
    let mut wasi = WasiFunctionEnv::new(store, env);

    // An instance of the empty module stands for "the program" to
    // wasmer-wasix: it exports nothing, so only the memory given is used.
    let empty = Module::from_binary(engine, b"\0asm\x01\0\0\0")
        .map_err(|e| format!("cannot compile the empty module: {e}"))?;
    let anchor = Instance::new_by_index(store, &empty, &[])
        .map_err(|e| format!("cannot instantiate the empty module: {e}"))?;
    let handles = WasiModuleInstanceHandles::new(
        memory.clone(),
        &*store,
        anchor.clone(),
        Some(table.clone()),
    );
    wasi.initialize_handles_and_layout(
        store,
        anchor,
        WasiModuleTreeHandles::Static(handles),
        None,
        false,
    )
    .map_err(|e| format!("cannot initialise WASI: {e}"))?;

    let imports =
        wasmer_wasix::generate_import_object_from_env(store, &wasi.env, WasiVersion::Snapshot1);
    let functions = imports
        .into_iter()
        .filter(|((module, _), _)| module == WASI_MODULE)
        .map(|((_, name), ext)| (name, ext))
        .collect();
    Ok((wasi, functions))
}

/// Where a directory preopened as `guest` is mounted: `/` + `guest`,
/// normalised (`plugins` and `/plugins` are `/plugins`, `.` is `/`).
fn mount_point(guest: &str) -> PathBuf {
    let mut at = PathBuf::from("/");
    for part in Path::new(guest).components() {
        match part {
            Component::Normal(p) => at.push(p),
            Component::ParentDir => {
                at.pop();
            }
            _ => {}
        }
    }
    at
}

/// `host` made absolute, and checked to be a directory.
fn absolute(host: &Path) -> Result<PathBuf, String> {
    let path = std::fs::canonicalize(host)
        .map_err(|e| format!("cannot open directory {}: {e}", host.display()))?;
    if !path.is_dir() {
        return Err(format!("{} is not a directory", host.display()));
    }
    Ok(path)
}

/// The process's standard streams, read and written synchronously.
#[derive(Debug)]
enum Stdio {
    In,
    Out,
    Err,
}

impl VirtualFile for Stdio {
    fn last_accessed(&self) -> u64 {
        0
    }

    fn last_modified(&self) -> u64 {
        0
    }

    fn created_time(&self) -> u64 {
        0
    }

    fn size(&self) -> u64 {
        0
    }

    fn set_len(&mut self, _new_size: u64) -> virtual_fs::Result<()> {
        Ok(())
    }

    fn unlink(&mut self) -> virtual_fs::Result<()> {
        Ok(())
    }

    fn get_special_fd(&self) -> Option<u32> {
        Some(match self {
            Stdio::In => 0,
            Stdio::Out => 1,
            Stdio::Err => 2,
        })
    }

    fn poll_read_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(1))
    }

    fn poll_write_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(8192))
    }
}

impl AsyncRead for Stdio {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match *self {
            Stdio::In => {
                let n = io::stdin().lock().read(buf.initialize_unfilled())?;
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            _ => Poll::Ready(Err(io::Error::other("cannot read from an output stream"))),
        }
    }
}

impl AsyncWrite for Stdio {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = match *self {
            Stdio::Out => {
                let mut out = io::stdout().lock();
                out.write_all(buf).and_then(|()| out.flush())
            }
            Stdio::Err => io::stderr().lock().write_all(buf),
            Stdio::In => Err(io::Error::other("cannot write to stdin")),
        };
        Poll::Ready(result.map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(match *self {
            Stdio::Out => io::stdout().lock().flush(),
            _ => Ok(()),
        })
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for Stdio {
    fn start_seek(self: Pin<&mut Self>, _position: io::SeekFrom) -> io::Result<()> {
        Err(io::Error::other("cannot seek a standard stream"))
    }

    fn poll_complete(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(0))
    }
}
