//! The status on ubus (cargo feature `ubus`): the object
//! `wgpeerselector.<ifname>` with the method `status`, as the Lua original
//! registers it — Gluon's respondd module (gluon-mesh-vpn-wireguard,
//! `statistics.mesh_vpn`) and so the status page read it with
//! `ubus_invoke(ctx, id("wgpeerselector.wg_mesh"), "status", …)`.
//!
//! A small binding to libubus, OpenWrt's C library (on the router in every
//! image; linked dynamically). No Rust crate can register ubus objects.
//!
//! # Event loop
//!
//! No uloop: the daemon's `poll(2)` loop watches the connection's socket
//! ([`Ubus::fd`]) with its other descriptors, and when it is readable calls
//! [`Ubus::handle`], which does what libubus' `ubus_handle_event` does (the
//! socket's callback, `ctx->sock.cb`). libubus reads every message waiting
//! (the socket is non-blocking) and calls the `status` handler for each
//! invocation, which answers from the reply the daemon made just before
//! (the selector's status, as blobmsg: [`crate::blob::status`]). All of
//! libubus runs on the daemon's thread.
//!
//! # Reconnecting
//!
//! When ubusd goes away (restarted by procd, say) libubus marks the socket
//! at end of file (`ctx->sock.eof`); the context is freed and a new one made
//! — `ubus_connect` and `ubus_add_object` again — at once and then every
//! second until ubusd is back ([`Ubus::retry_at`]). Likewise when ubusd is
//! not there at the start. Meanwhile the selector goes on (the status
//! socket answers). ubusd removes a client's objects when its connection
//! closes, so the object goes when the selector exits, however it exits.
//!
//! Registering waits for ubusd's answer (libubus has no timeout for it):
//! a ubusd that accepts connections but never answers would hold up the
//! selector there, as it would netifd, procd and the Lua original.
//!
//! # What is declared
//!
//! Only what is used: `ubus_connect`, `ubus_add_object`, `ubus_send_reply`,
//! `ubus_free`, `ubus_strerror` and libubox's `uloop_handle_sigchld`; the
//! structures `ubus_object`, `ubus_object_type` and `ubus_method` as
//! libubus.h has them since 2015 (the `tags` of methods), and of
//! `ubus_context` the part up to `sock` (unchanged since 2014), which is
//! all that is read. The context is allocated by libubus, never here. The
//! opt-in test (tests/ubus.rs) compares every size and offset with what a C
//! compiler makes of the installed headers ([`layout`]).

use crate::{debug, info, warn};
use std::ffi::{c_char, c_int, c_uint, c_ulong, c_void, CStr, CString};
use std::mem::{offset_of, size_of};
use std::os::fd::RawFd;
use std::path::Path;
use std::ptr::{self, addr_of_mut};
use std::time::{Duration, Instant};

#[repr(C)]
struct ListHead {
    next: *mut ListHead,
    prev: *mut ListHead,
}

/// libubox's `struct avl_node`.
#[repr(C)]
struct AvlNode {
    list: ListHead,
    parent: *mut AvlNode,
    left: *mut AvlNode,
    right: *mut AvlNode,
    key: *const c_void,
    balance: i8,
    leader: bool,
}

/// libubox's `struct avl_tree`.
#[repr(C)]
struct AvlTree {
    list_head: ListHead,
    root: *mut AvlNode,
    count: c_uint,
    allow_dups: bool,
    comp: *const c_void,
    cmp_ptr: *mut c_void,
}

type UloopFdHandler = unsafe extern "C" fn(fd: *mut UloopFd, events: c_uint);

/// libubox's `struct uloop_fd`.
#[repr(C)]
struct UloopFd {
    cb: Option<UloopFdHandler>,
    fd: c_int,
    eof: bool,
    error: bool,
    registered: bool,
    flags: u8,
}

/// The beginning of `struct ubus_context`, up to and with `sock`.
#[repr(C)]
struct UbusContext {
    requests: ListHead,
    objects: AvlTree,
    pending: ListHead,
    sock: UloopFd,
}

type UbusHandler = unsafe extern "C" fn(
    ctx: *mut UbusContext,
    obj: *mut UbusObject,
    req: *mut c_void,
    method: *const c_char,
    msg: *mut c_void,
) -> c_int;

/// `struct ubus_method`
#[repr(C)]
struct UbusMethod {
    name: *const c_char,
    handler: Option<UbusHandler>,
    mask: c_ulong,
    tags: c_ulong,
    policy: *const c_void,
    n_policy: c_int,
}

/// `struct ubus_object_type`
#[repr(C)]
struct UbusObjectType {
    name: *const c_char,
    id: u32,
    methods: *const UbusMethod,
    n_methods: c_int,
}

/// `struct ubus_object`
#[repr(C)]
struct UbusObject {
    avl: AvlNode,
    name: *const c_char,
    id: u32,
    path: *const c_char,
    kind: *mut UbusObjectType,
    subscribe_cb: *const c_void,
    has_subscribers: bool,
    methods: *const UbusMethod,
    n_methods: c_int,
}

/// `ULOOP_READ`
const ULOOP_READ: c_uint = 1;
/// `UBUS_STATUS_NO_DATA`
const UBUS_STATUS_NO_DATA: c_int = 5;

#[link(name = "ubus")]
extern "C" {
    fn ubus_connect(path: *const c_char) -> *mut UbusContext;
    fn ubus_free(ctx: *mut UbusContext);
    fn ubus_add_object(ctx: *mut UbusContext, obj: *mut UbusObject) -> c_int;
    fn ubus_send_reply(ctx: *mut UbusContext, req: *mut c_void, msg: *const u32) -> c_int;
    fn ubus_strerror(error: c_int) -> *const c_char;
}

#[link(name = "ubox")]
extern "C" {
    /// uloop (which libubus initialises on every connect) installs a SIGCHLD
    /// handler unless this is false; the selector runs commands
    /// (`--set-time-command`) and waits for them itself.
    static mut uloop_handle_sigchld: bool;
}

/// The object, its type and method, and the reply to send: one allocation
/// that does not move while libubus has pointers into it. `object` comes
/// first, so that the handler finds the rest from the object it is given.
#[repr(C)]
struct Registration {
    object: UbusObject,
    kind: UbusObjectType,
    method: UbusMethod,
    name: CString,
    /// The status as blobmsg (4-byte words: libubus reads the header as a
    /// 32-bit word).
    reply: Vec<u32>,
}

/// The method `status`: sends the reply [`Ubus::handle`] left.
unsafe extern "C" fn status_handler(
    ctx: *mut UbusContext,
    obj: *mut UbusObject,
    req: *mut c_void,
    _method: *const c_char,
    _msg: *mut c_void,
) -> c_int {
    // SAFETY: obj is the first field of a live #[repr(C)] Registration (the
    // only object registered with this handler); reply is read, not moved.
    unsafe {
        let reg = obj.cast::<Registration>();
        let reply = &(*reg).reply;
        if reply.is_empty() {
            return UBUS_STATUS_NO_DATA;
        }
        ubus_send_reply(ctx, req, reply.as_ptr())
    }
}

fn strerror(code: c_int) -> String {
    // SAFETY: ubus_strerror returns a static string, or one in a static
    // buffer for unknown codes; it is copied at once.
    unsafe { CStr::from_ptr(ubus_strerror(code)) }
        .to_string_lossy()
        .into_owned()
}

/// Between attempts to (re)connect.
const RETRY: Duration = Duration::from_secs(1);

/// The connection to ubusd and the registered object, or the time of the
/// next attempt.
pub struct Ubus {
    reg: *mut Registration,
    socket: Option<CString>,
    socket_display: String,
    /// Null while not connected.
    ctx: *mut UbusContext,
    next_attempt: Instant,
    last_error: Option<String>,
}

impl Ubus {
    /// The object `wgpeerselector.<ifname>`, for ubusd at `socket` (`None`:
    /// libubus' default); connects on the first [`Ubus::tick`].
    pub fn new(ifname: &str, socket: Option<&Path>) -> Result<Ubus, String> {
        let name = CString::new(format!("wgpeerselector.{ifname}"))
            .map_err(|_| format!("bad interface name {ifname:?}"))?;
        let socket_c = match socket {
            Some(p) => Some(
                CString::new(p.as_os_str().as_encoded_bytes())
                    .map_err(|_| format!("bad ubus socket path {}", p.display()))?,
            ),
            None => None,
        };
        let reg = Box::into_raw(Box::new(Registration {
            object: UbusObject {
                avl: AvlNode {
                    list: ListHead {
                        next: ptr::null_mut(),
                        prev: ptr::null_mut(),
                    },
                    parent: ptr::null_mut(),
                    left: ptr::null_mut(),
                    right: ptr::null_mut(),
                    key: ptr::null(),
                    balance: 0,
                    leader: false,
                },
                name: ptr::null(),
                id: 0,
                path: ptr::null(),
                kind: ptr::null_mut(),
                subscribe_cb: ptr::null(),
                has_subscribers: false,
                methods: ptr::null(),
                n_methods: 1,
            },
            kind: UbusObjectType {
                name: ptr::null(),
                id: 0,
                methods: ptr::null(),
                n_methods: 1,
            },
            method: UbusMethod {
                name: c"status".as_ptr(),
                handler: Some(status_handler),
                mask: 0,
                tags: 0,
                policy: ptr::null(),
                n_policy: 0,
            },
            name,
            reply: Vec::new(),
        }));
        // SAFETY: reg is a fresh allocation owned by the Ubus returned; the
        // pointers set here point into it and live as long.
        unsafe {
            let name = (*reg).name.as_ptr();
            let method = addr_of_mut!((*reg).method);
            (*reg).object.name = name;
            (*reg).object.kind = addr_of_mut!((*reg).kind);
            (*reg).object.methods = method;
            (*reg).kind.name = name;
            (*reg).kind.methods = method;
        }
        Ok(Ubus {
            reg,
            socket_display: socket.map_or_else(
                || "ubusd's default socket".to_string(),
                |p| p.display().to_string(),
            ),
            socket: socket_c,
            ctx: ptr::null_mut(),
            next_attempt: Instant::now(),
            last_error: None,
        })
    }

    /// The object's name.
    pub fn object(&self) -> String {
        // SAFETY: reg lives as long as self.
        unsafe { (*self.reg).name.to_string_lossy().into_owned() }
    }

    pub fn connected(&self) -> bool {
        !self.ctx.is_null()
    }

    /// The connection's socket, to poll for reading; -1 while not connected.
    pub fn fd(&self) -> RawFd {
        if self.ctx.is_null() {
            -1
        } else {
            // SAFETY: a live context from ubus_connect.
            unsafe { (*self.ctx).sock.fd }
        }
    }

    /// When [`Ubus::tick`] wants to run again: while not connected.
    pub fn retry_at(&self) -> Option<Instant> {
        self.ctx.is_null().then_some(self.next_attempt)
    }

    /// Connects and registers the object when not connected and it is time.
    pub fn tick(&mut self, now: Instant) {
        if !self.ctx.is_null() || now < self.next_attempt {
            return;
        }
        match self.connect() {
            Ok(()) => {
                info!(
                    "Registered ubus object {} at {}.",
                    self.object(),
                    self.socket_display
                );
                self.last_error = None;
            }
            Err(e) => {
                if self.last_error.as_deref() != Some(&e) {
                    warn!("ubus: {e}; retrying every {}s", RETRY.as_secs());
                    self.last_error = Some(e);
                } else {
                    debug!("ubus: {e}");
                }
                self.next_attempt = now + RETRY;
            }
        }
    }

    fn connect(&mut self) -> Result<(), String> {
        let path = self.socket.as_ref().map_or(ptr::null(), |s| s.as_ptr());
        // SAFETY: setting a plain global of libubox on the only thread
        // that uses libubox.
        unsafe { uloop_handle_sigchld = false };
        // SAFETY: path is null or a valid string; the result is null or a
        // context we own until ubus_free.
        let ctx = unsafe { ubus_connect(path) };
        if ctx.is_null() {
            return Err(format!("cannot connect to {}", self.socket_display));
        }
        // SAFETY: reg is live and not moved; a new connection registers the
        // type anew (ids from an earlier ubusd mean nothing to this one).
        // The object stays in the context's tree until ubus_free.
        let rc = unsafe {
            (*self.reg).object.id = 0;
            (*self.reg).kind.id = 0;
            ubus_add_object(ctx, addr_of_mut!((*self.reg).object))
        };
        if rc != 0 {
            // SAFETY: ctx from ubus_connect, not used after.
            unsafe { ubus_free(ctx) };
            return Err(format!(
                "cannot register {}: {}",
                self.object(),
                strerror(rc)
            ));
        }
        self.ctx = ctx;
        Ok(())
    }

    /// The socket is readable: handles what ubusd sent, answering `status`
    /// with `reply` (made by [`crate::blob::status`]). Notices a lost
    /// connection.
    pub fn handle(&mut self, reply: &[u8], now: Instant) {
        if self.ctx.is_null() {
            return;
        }
        let mut words = vec![0u32; reply.len().div_ceil(4)];
        for (w, chunk) in words.iter_mut().zip(reply.chunks(4)) {
            let mut b = [0u8; 4];
            b[..chunk.len()].copy_from_slice(chunk);
            *w = u32::from_ne_bytes(b);
        }
        // SAFETY: reg is live; nothing else refers to reply now.
        unsafe { (*self.reg).reply = words };
        // SAFETY: ubus_handle_event (libubus.h): the socket's callback, set
        // by libubus, with ctx a live context; it may call status_handler.
        let lost = unsafe {
            let sock = addr_of_mut!((*self.ctx).sock);
            if let Some(cb) = (*sock).cb {
                cb(sock, ULOOP_READ);
            }
            (*sock).eof
        };
        if lost {
            warn!("ubus: lost the connection to ubusd; reconnecting");
            // SAFETY: ctx from ubus_connect, not used after.
            unsafe { ubus_free(self.ctx) };
            self.ctx = ptr::null_mut();
            self.next_attempt = now;
        }
    }
}

impl Drop for Ubus {
    fn drop(&mut self) {
        // SAFETY: ctx from ubus_connect (closing it makes ubusd remove the
        // object), then the registration libubus no longer refers to.
        unsafe {
            if !self.ctx.is_null() {
                ubus_free(self.ctx);
            }
            drop(Box::from_raw(self.reg));
        }
    }
}

/// The sizes and offsets of the declared structures, by their C names
/// (`struct.field`, `sizeof struct`), for the comparison with libubus.h.
pub fn layout() -> Vec<(&'static str, usize)> {
    vec![
        ("sizeof avl_node", size_of::<AvlNode>()),
        ("sizeof avl_tree", size_of::<AvlTree>()),
        ("sizeof uloop_fd", size_of::<UloopFd>()),
        ("uloop_fd.fd", offset_of!(UloopFd, fd)),
        ("uloop_fd.eof", offset_of!(UloopFd, eof)),
        ("ubus_context.sock", offset_of!(UbusContext, sock)),
        ("sizeof ubus_method", size_of::<UbusMethod>()),
        ("ubus_method.handler", offset_of!(UbusMethod, handler)),
        ("ubus_method.mask", offset_of!(UbusMethod, mask)),
        ("ubus_method.tags", offset_of!(UbusMethod, tags)),
        ("ubus_method.policy", offset_of!(UbusMethod, policy)),
        ("ubus_method.n_policy", offset_of!(UbusMethod, n_policy)),
        ("sizeof ubus_object_type", size_of::<UbusObjectType>()),
        ("ubus_object_type.id", offset_of!(UbusObjectType, id)),
        (
            "ubus_object_type.methods",
            offset_of!(UbusObjectType, methods),
        ),
        (
            "ubus_object_type.n_methods",
            offset_of!(UbusObjectType, n_methods),
        ),
        ("sizeof ubus_object", size_of::<UbusObject>()),
        ("ubus_object.name", offset_of!(UbusObject, name)),
        ("ubus_object.id", offset_of!(UbusObject, id)),
        ("ubus_object.path", offset_of!(UbusObject, path)),
        ("ubus_object.type", offset_of!(UbusObject, kind)),
        (
            "ubus_object.subscribe_cb",
            offset_of!(UbusObject, subscribe_cb),
        ),
        (
            "ubus_object.has_subscribers",
            offset_of!(UbusObject, has_subscribers),
        ),
        ("ubus_object.methods", offset_of!(UbusObject, methods)),
        ("ubus_object.n_methods", offset_of!(UbusObject, n_methods)),
    ]
}
