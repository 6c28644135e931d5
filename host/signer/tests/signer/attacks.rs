//! What another local user could try against a running signer, one test per
//! hole. Tests that need a second user run as root and become `nobody`
//! (uid 65534); as any other user they have nothing to test and return.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{KEY, Server, binary, write_file};

const NOBODY: u32 = 65534;

fn running_as_root() -> bool {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `work` on a thread that has become `nobody`. Only that thread
/// changes user (the raw system call, unlike libc's `setresuid`, is per
/// thread), so the test process stays root.
fn as_nobody<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        // SAFETY: plain integers; affects only this thread, which ends with
        // `work`.
        let changed = unsafe {
            libc::syscall(libc::SYS_setresgid, NOBODY, NOBODY, NOBODY) == 0
                && libc::syscall(libc::SYS_setresuid, NOBODY, NOBODY, NOBODY) == 0
        };
        assert!(changed, "cannot become nobody");
        work()
    })
    .join()
    .expect("the nobody thread")
}

/// One line read from `stream`, or `None` at its end.
fn read_line(stream: &UnixStream) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut line = String::new();
    let read = BufReader::new(stream).read_line(&mut line).expect("read");
    (read > 0).then_some(line)
}

#[test]
fn the_signer_cannot_be_read_or_dumped_by_its_own_user_and_locks_its_key() {
    if !running_as_root() {
        return;
    }
    // The signer runs as nobody, with nobody's key in nobody's folder.
    let dir = tempfile::tempdir().unwrap();
    let key = write_file(dir.path(), "key", &format!("{KEY}\n"), 0o600);
    for path in [dir.path(), key.as_path()] {
        std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    let socket = dir.path().join("signer.sock");
    // A copy nobody can run wherever the build is (a clone under a 0700
    // home folder would not be).
    let program = dir.path().join("connector-signer");
    fs::copy(binary().get_program(), &program).unwrap();
    let child = std::process::Command::new(&program)
        .args(["serve", "--allow-demo-keys", "--key-file"])
        .arg(&key)
        .arg("--socket")
        .arg(&socket)
        .uid(NOBODY)
        .gid(NOBODY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(&socket).is_err() {
        assert!(child.0.try_wait().unwrap().is_none(), "the signer exited");
        assert!(Instant::now() < deadline, "the signer never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.0.id();

    // Another process of the same user cannot read its memory map (nor its
    // memory): the process is not dumpable.
    let maps = format!("/proc/{pid}/maps");
    let read = as_nobody(move || fs::read_to_string(maps).map_err(|e| e.kind()));
    assert_eq!(read, Err(std::io::ErrorKind::PermissionDenied));
    // No core file, and the key's pages are locked in memory.
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits
        .lines()
        .find(|line| line.starts_with("Max core file size"))
        .unwrap();
    assert_eq!(core.split_whitespace().nth(4), Some("0"), "{core}");
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let locked: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmLck:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(locked > 0, "VmLck {locked} kB");
}

/// A child process killed when the test ends, passed or failed.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_user_not_allowed_is_refused_by_uid_even_through_an_open_socket() {
    if !running_as_root() {
        return;
    }
    let server = Server::start(None);
    // An administrator opens the socket to everyone, by mistake.
    fs::set_permissions(server.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&server.socket, fs::Permissions::from_mode(0o666)).unwrap();

    let socket = server.socket.clone();
    let answer = as_nobody(move || {
        let mut stream = UnixStream::connect(&socket).expect("connect as nobody");
        let _ = stream.write_all(b"{\"id\":1,\"scheme\":\"hyperliquid-l1\"}\n");
        let refusal = read_line(&stream);
        (refusal, read_line(&stream))
    });
    let refusal = answer.0.expect("a refusal");
    assert!(
        refusal.contains("not_allowed") && refusal.contains("uid 65534"),
        "{refusal}"
    );
    assert_eq!(answer.1, None, "the connection is closed");
    assert!(server.stderr().contains("connection refused: uid 65534"));
    // Its own user is served as before.
    let mut own = server.connect();
    own.send("{\"id\":2}");
    assert!(own.receive_value().is_some());
}

#[test]
fn an_allowed_uid_is_served() {
    if !running_as_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir, None, &["--allow-uid", "65534"]);
    fs::set_permissions(server.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    // Another uid allowed: the socket is open to the signer's group, not
    // to everyone — nobody reaches it once it is in that group.
    let mode = fs::metadata(&server.socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    let socket = server.socket.clone();
    let outside = as_nobody(move || UnixStream::connect(&socket).map(|_| ()));
    assert_eq!(
        outside.map_err(|error| error.kind()),
        Err(std::io::ErrorKind::PermissionDenied)
    );
    std::os::unix::fs::chown(&server.socket, None, Some(NOBODY)).unwrap();
    let socket = server.socket.clone();
    let answer = as_nobody(move || {
        let mut stream = UnixStream::connect(&socket).expect("connect");
        stream.write_all(b"{\"id\":7}\n").expect("write");
        read_line(&stream)
    });
    let answer = answer.expect("an answer");
    assert!(
        answer.contains("\"id\":7") && answer.contains("bad_request"),
        "{answer}"
    );
}

/// A connection the signer answers on (retried while it has no room).
fn served_connection(socket: &Path) -> UnixStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stream = UnixStream::connect(socket).unwrap();
        let answered = (&stream).write_all(b"{\"id\":1}\n").is_ok()
            && BufReader::new(&stream)
                .read_line(&mut String::new())
                .is_ok_and(|read| read > 0);
        if answered {
            return stream;
        }
        assert!(Instant::now() < deadline, "no room for a connection");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn connections_beyond_the_cap_are_closed_as_they_come() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir, None, &["--max-connections", "2"]);
    let _first = served_connection(&server.socket);
    let second = served_connection(&server.socket);
    let third = UnixStream::connect(&server.socket).unwrap();
    assert_eq!(read_line(&third), None, "the third connection is closed");
    assert!(server.stderr().contains("too many open"));
    // Once one is gone a new one is served.
    drop(second);
    served_connection(&server.socket);
}

#[test]
fn a_socket_folder_or_key_file_others_could_change_is_refused() {
    let key_dir = tempfile::tempdir().unwrap();
    let key = write_file(key_dir.path(), "key", KEY, 0o600);
    let open_folder = tempfile::tempdir().unwrap();
    fs::set_permissions(open_folder.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let refused = |key: &Path, socket: &Path, reason: &str| {
        let output = binary()
            .args(["serve", "--allow-demo-keys", "--key-file"])
            .arg(key)
            .arg("--socket")
            .arg(socket)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(reason),
            "{reason}: {stderr}"
        );
    };
    refused(
        &key,
        &open_folder.path().join("signer.sock"),
        "another user could replace the socket",
    );
    // The key in a folder anyone may write: anyone could swap it.
    let swappable = write_file(open_folder.path(), "key", KEY, 0o600);
    refused(
        &swappable,
        &key_dir.path().join("signer.sock"),
        "another user could change it",
    );
}
