//! Windows: the owner SID and the DACL of a file in place of the uid and the
//! mode (docs/SECURITY.md, "Windows and macOS"). A store file or directory
//! is private when this user owns it and its DACL allows nobody else but
//! the operating system (LocalSystem) and the machine's administrators
//! (who can take any file anyway) to read, write or change it. A private
//! directory is given a protected DACL with one inheritable entry, this
//! user's full control, so that everything created inside inherits it.

use super::NotPrivate;
use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::AsRawHandle;
use std::path::Path;
use windows_sys::Win32::Foundation::{
    CloseHandle, LocalFree, GENERIC_ALL, GENERIC_READ, GENERIC_WRITE, HANDLE, WIN32_ERROR,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, GetNamedSecurityInfoW, GetSecurityInfo, SetNamedSecurityInfoW,
    SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    AddAccessAllowedAceEx, EqualSid, GetAce, GetLengthSid, GetTokenInformation, InitializeAcl,
    IsWellKnownSid, TokenUser, WinBuiltinAdministratorsSid, WinLocalSystemSid, ACCESS_ALLOWED_ACE,
    ACL, ACL_REVISION, CONTAINER_INHERIT_ACE, DACL_SECURITY_INFORMATION, OBJECT_INHERIT_ACE,
    OWNER_SECURITY_INFORMATION, PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID,
    TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::Storage::FileSystem::{
    DELETE, FILE_ALL_ACCESS, FILE_APPEND_DATA, FILE_FLAG_OPEN_REPARSE_POINT, FILE_READ_DATA,
    FILE_WRITE_DATA, WRITE_DAC, WRITE_OWNER,
};
use windows_sys::Win32::System::SystemServices::ACCESS_ALLOWED_ACE_TYPE;
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

/// Access that lets another party change a file's contents, or its
/// protection.
const WRITES: u32 = FILE_WRITE_DATA
    | FILE_APPEND_DATA
    | GENERIC_WRITE
    | GENERIC_ALL
    | WRITE_DAC
    | WRITE_OWNER
    | DELETE;

/// Access that lets another party read or change a file's contents, or
/// its protection.
const OPENS: u32 = FILE_READ_DATA
    | FILE_WRITE_DATA
    | FILE_APPEND_DATA
    | GENERIC_READ
    | GENERIC_WRITE
    | GENERIC_ALL
    | WRITE_DAC
    | WRITE_OWNER
    | DELETE;

/// This process's user SID, as bytes (a copy out of the token).
fn my_sid() -> io::Result<Vec<u8>> {
    unsafe {
        let mut token: HANDLE = std::ptr::null_mut();
        if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; 256];
        let mut len = 0u32;
        let ok = GetTokenInformation(
            token,
            TokenUser,
            buf.as_mut_ptr().cast(),
            buf.len() as u32,
            &mut len,
        );
        let err = io::Error::last_os_error();
        CloseHandle(token);
        if ok == 0 {
            return Err(err);
        }
        let user = &*(buf.as_ptr() as *const TOKEN_USER);
        let sid = user.User.Sid;
        let n = GetLengthSid(sid) as usize;
        Ok(std::slice::from_raw_parts(sid as *const u8, n).to_vec())
    }
}

fn sid_string(sid: PSID) -> String {
    unsafe {
        let mut out: *mut u16 = std::ptr::null_mut();
        if ConvertSidToStringSidW(sid, &mut out) == 0 || out.is_null() {
            return "an unknown SID".into();
        }
        let mut n = 0;
        while *out.add(n) != 0 {
            n += 1;
        }
        let s = String::from_utf16_lossy(std::slice::from_raw_parts(out, n));
        LocalFree(out.cast());
        s
    }
}

/// `sid:S-1-5-21-…`, for the audit trail's actor when neither `USER` nor
/// `USERNAME` is set.
pub fn user_id() -> String {
    match my_sid() {
        Ok(mut sid) => format!("sid:{}", sid_string(sid.as_mut_ptr().cast())),
        Err(_) => "sid:unknown".into(),
    }
}

/// Whether this user owns `path`'s file (by its owner SID).
pub fn owned_by_me_path(path: &Path) -> bool {
    matches!(security(path, None), Ok(sd) if sd.owner_is_me)
}

struct Security {
    owner_is_me: bool,
    /// The owner is this user, LocalSystem or the administrators.
    owner_trusted: bool,
    owner: String,
    /// The first entry that opens the file to someone else.
    loose: Option<String>,
}

fn wide(path: &Path) -> Vec<u16> {
    path.as_os_str()
        .encode_wide()
        .chain(std::iter::once(0))
        .collect()
}

/// The owner and DACL of a file, by its open handle or by its path.
fn security(path: &Path, file: Option<&File>) -> io::Result<Security> {
    security_for(path, file, OPENS)
}

/// [`security`], with `loose` the first entry granting someone else any
/// of `mask`.
fn security_for(path: &Path, file: Option<&File>, mask: u32) -> io::Result<Security> {
    let me = my_sid()?;
    unsafe {
        let mut owner: PSID = std::ptr::null_mut();
        let mut dacl: *mut ACL = std::ptr::null_mut();
        let mut sd: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        let what = OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
        let rc: WIN32_ERROR = match file {
            Some(f) => GetSecurityInfo(
                f.as_raw_handle() as HANDLE,
                SE_FILE_OBJECT,
                what,
                &mut owner,
                std::ptr::null_mut(),
                &mut dacl,
                std::ptr::null_mut(),
                &mut sd,
            ),
            None => GetNamedSecurityInfoW(
                wide(path).as_ptr(),
                SE_FILE_OBJECT,
                what,
                &mut owner,
                std::ptr::null_mut(),
                &mut dacl,
                std::ptr::null_mut(),
                &mut sd,
            ),
        };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc as i32));
        }
        let me_ptr: PSID = me.as_ptr() as PSID;
        let trusted = |sid: PSID| {
            EqualSid(sid, me_ptr) != 0
                || IsWellKnownSid(sid, WinLocalSystemSid) != 0
                || IsWellKnownSid(sid, WinBuiltinAdministratorsSid) != 0
        };
        let owner_is_me = !owner.is_null() && EqualSid(owner, me_ptr) != 0;
        let owner_trusted = !owner.is_null() && trusted(owner);
        let owner_text = if owner.is_null() {
            "no owner".into()
        } else {
            sid_string(owner)
        };
        let loose = if dacl.is_null() {
            // No DACL at all: everyone has every access.
            Some("no DACL: everyone may open it".to_string())
        } else {
            let mut found = None;
            for i in 0..(*dacl).AceCount as u32 {
                let mut ace: *mut core::ffi::c_void = std::ptr::null_mut();
                if GetAce(dacl, i, &mut ace) == 0 {
                    continue;
                }
                let ace = ace as *const ACCESS_ALLOWED_ACE;
                if (*ace).Header.AceType as u32 != ACCESS_ALLOWED_ACE_TYPE {
                    continue;
                }
                let sid: PSID = std::ptr::addr_of!((*ace).SidStart) as PSID;
                if (*ace).Mask & mask != 0 && !trusted(sid) {
                    found = Some(format!(
                        "its DACL lets {} open it (access mask {:#x})",
                        sid_string(sid),
                        (*ace).Mask
                    ));
                    break;
                }
            }
            found
        };
        LocalFree(sd);
        Ok(Security {
            owner_is_me,
            owner_trusted,
            owner: owner_text,
            loose,
        })
    }
}

/// The file is this user's and its DACL lets nobody else open it.
pub fn check_private(path: &Path, file: Option<&File>, _m: &Metadata) -> Result<(), NotPrivate> {
    let sd = security(path, file)
        .map_err(|e| NotPrivate::Loose(format!("its security descriptor cannot be read: {e}")))?;
    if let Some(why) = sd.loose {
        return Err(NotPrivate::Loose(why));
    }
    if !sd.owner_is_me {
        return Err(NotPrivate::Owner(format!("owner {}", sd.owner)));
    }
    Ok(())
}

/// What opens `path` to others, if anything.
pub fn loose(path: &Path) -> io::Result<Option<String>> {
    Ok(security(path, None)?.loose)
}

/// Creates `dir` and its missing parents; `dir` itself gets the private
/// DACL (the parents are the user's own directories, as on Unix they
/// get 0700 only when authcfg creates them).
pub fn create_private_dirs(dir: &Path) -> io::Result<()> {
    let existed = dir.is_dir();
    std::fs::create_dir_all(dir)?;
    if existed {
        Ok(())
    } else {
        make_private_dir(dir)
    }
}

/// Creates `dir` with the private DACL; fails when it exists.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir(dir)?;
    make_private_dir(dir)
}

/// Gives `dir` a protected DACL: this user's full control, inherited by
/// everything inside; nothing inherited from above.
pub fn make_private_dir(dir: &Path) -> io::Result<()> {
    set_private_dacl(dir, OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE)
}

/// Gives a new file (a temp file before its rename) the protected,
/// this-user-only DACL, whatever its directory would pass on: a file
/// written outside the store (an identity file) is private too.
pub fn make_private_file(path: &Path) -> io::Result<()> {
    set_private_dacl(path, 0)
}

fn set_private_dacl(path: &Path, inherit: u32) -> io::Result<()> {
    let dir = path;
    let mut me = my_sid()?;
    unsafe {
        let sid: PSID = me.as_mut_ptr().cast();
        let size = std::mem::size_of::<ACL>()
            + std::mem::size_of::<ACCESS_ALLOWED_ACE>()
            + GetLengthSid(sid) as usize
            + 16;
        // u32-aligned, as an ACL must be.
        let mut buf = vec![0u32; size.div_ceil(4)];
        let acl = buf.as_mut_ptr() as *mut ACL;
        if InitializeAcl(acl, (buf.len() * 4) as u32, ACL_REVISION) == 0 {
            return Err(io::Error::last_os_error());
        }
        if AddAccessAllowedAceEx(acl, ACL_REVISION, inherit, FILE_ALL_ACCESS, sid) == 0 {
            return Err(io::Error::last_os_error());
        }
        let rc = SetNamedSecurityInfoW(
            wide(dir).as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            acl,
            std::ptr::null(),
        );
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc as i32));
        }
    }
    Ok(())
}

/// Options for a private file: with `nofollow` the link itself is opened
/// (`FILE_FLAG_OPEN_REPARSE_POINT`) and [`opened_link`] refuses it. A new
/// file's DACL is inherited from its private directory; `nonblock` has no
/// meaning for Windows files.
pub fn private_open(o: &mut OpenOptions, nofollow: bool, _nonblock: bool) -> &mut OpenOptions {
    if nofollow {
        o.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    }
    o
}

/// Options for a file read for the user (`input::open`): as they are.
pub fn input_open(o: &mut OpenOptions) -> &mut OpenOptions {
    o
}

/// Never: a link is opened, not refused, and [`opened_link`] says so.
pub fn is_link_error(_e: &io::Error) -> bool {
    false
}

/// Whether a file opened with `nofollow` is the link itself.
pub fn opened_link(m: &Metadata) -> bool {
    m.file_type().is_symlink()
}

/// Temp files inherit the private directory's DACL.
pub fn private_temp(_b: &mut tempfile::Builder<'_, '_>) {}

/// NTFS journals its metadata: a rename needs no directory flush (and a
/// directory cannot be opened as a file).
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// No per-file-system flush on Windows: bulk writes are flushed file by
/// file by their writers' `sync_all` (docs/ARCHITECTURE.md, "Platforms").
pub fn sync_fs(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// The hint that closes a file to others.
pub fn fix_loose_hint(path: &Path) -> String {
    format!(
        "run: icacls \"{}\" /inheritance:r /grant:r \"%USERNAME%:F\"",
        path.display()
    )
}

/// The hint that closes a directory to others.
pub fn fix_loose_dir_hint(path: &Path) -> String {
    format!(
        "run: icacls \"{}\" /inheritance:r /grant:r \"%USERNAME%:(OI)(CI)F\"",
        path.display()
    )
}

/// Files a child creates in the store inherit the private directory's
/// DACL: there is no umask to set.
pub fn child_private_umask(_c: &mut std::process::Command) {}

/// There is no session keyring (and no key cache) on Windows.
pub fn child_leaves_keyring(_c: &mut std::process::Command) {}

/// A child detached from this console: closing it does not end the child.
pub fn child_own_session(c: &mut std::process::Command) {
    use std::os::windows::process::CommandExt;
    const DETACHED_PROCESS: u32 = 0x0000_0008;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    c.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
}

/// Whether `path` still names the open `file` (volume and file index).
pub fn same_file(path: &Path, file: &File) -> io::Result<bool> {
    let opened = ::same_file::Handle::from_file(file.try_clone()?)?;
    Ok(::same_file::Handle::from_path(path).is_ok_and(|h| h == opened))
}

/// Reads exactly `buf.len()` bytes at `offset` (moves the file position:
/// callers append after, which seeks to the end anyway).
pub fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// Identifies a file's current content cheaply (size, last write time).
pub fn stamp(m: &Metadata) -> String {
    use std::os::windows::fs::MetadataExt;
    format!("{}:{}", m.file_size(), m.last_write_time())
}

/// Why another user could have written `path` (a project file, a
/// directory above it): an owner other than this user, LocalSystem or the
/// administrators, or a DACL entry letting someone else write.
pub fn foreign_writer(path: &Path, file: Option<&File>) -> io::Result<Option<String>> {
    let sd = security_for(path, file, WRITES)?;
    if !sd.owner_trusted {
        return Ok(Some(format!("it belongs to {}", sd.owner)));
    }
    Ok(sd.loose)
}

/// Windows has no exec: the command is started as a child with the same
/// console and standard handles, authcfg ignores Ctrl+C and Ctrl+Break
/// (the console delivers them to the child too) and exits with the
/// child's exit code once it ends (docs/SECURITY.md, "Windows and macOS").
/// Returns only when the command cannot start.
pub fn exec(mut cmd: std::process::Command) -> io::Error {
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return e,
    };
    drop(cmd);
    ignore_console_interrupts();
    match child.wait() {
        Ok(status) => std::process::exit(exit_code(status)),
        Err(e) => e,
    }
}

fn ignore_console_interrupts() {
    // SAFETY: a null handler with TRUE makes this process ignore Ctrl+C.
    unsafe {
        windows_sys::Win32::System::Console::SetConsoleCtrlHandler(None, 1);
    }
}

/// While authcfg waits for a child: Ctrl+C reaches the child through the
/// console and is ignored here. (There are no signals to pass on.)
pub fn forward_signals(_pid: u32) {
    ignore_console_interrupts();
}

/// A child's exit code (1 when there is none).
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

/// A closed pipe is reported by the write itself on Windows.
pub fn stdout_reader_gone() -> bool {
    true
}

/// Resolves when authcfg is asked to stop (Ctrl+C, Ctrl+Break).
pub async fn stop_requested() -> io::Result<()> {
    tokio::signal::ctrl_c().await
}

/// What a supervised run needs that Windows does not have yet
/// (docs/ARCHITECTURE.md, "Platforms").
fn not_yet(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} is not available on Windows yet"),
    )
}

/// Refused: std cannot set a Windows child's argv[0] (only MCP
/// `run_command` asks, which needs [`child_own_group`] too).
pub fn child_arg0(_c: &mut std::process::Command, _name: &str) -> io::Result<()> {
    Err(not_yet(
        "MCP run_command (a program run under its allowed name)",
    ))
}

/// Refused: ending a child with everything it started needs a job object,
/// not written yet (MCP `run_command`).
pub fn child_own_group(_c: &mut std::process::Command) -> io::Result<()> {
    Err(not_yet(
        "MCP run_command (a child killed with all it started)",
    ))
}

/// Never reached: [`child_own_group`] refuses first.
pub fn kill_group(_pid: u32) {}

/// Whether a file of metadata `m` may be run: any regular file (Windows
/// has no execute bit; `CreateProcess` decides).
pub fn executable(m: &Metadata) -> bool {
    m.is_file()
}

/// No signals end a Windows process.
pub fn exit_signal(_status: std::process::ExitStatus) -> Option<i32> {
    None
}

/// Never reached: [`child_own_group`] refuses first (there is no
/// environment of other processes to search here).
pub fn kill_marked(_marker: &[u8]) {}

/// What identifies a file's content without reading it (size, creation
/// and last write times; std gives no file index on stable).
pub fn file_identity(m: &Metadata) -> String {
    use std::os::windows::fs::MetadataExt;
    format!(
        "{}:{}:{}",
        m.file_size(),
        m.creation_time(),
        m.last_write_time()
    )
}
