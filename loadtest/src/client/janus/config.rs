//! A configuration folder for a Janus WebRTC Gateway (1.1, Debian's `janus` package) used as the comparison
//! target: the VideoRoom plugin and the WebSocket transport only (both linked from the installed module
//! folders), no Admin API, no event handlers or loggers, its WebSocket API on 127.0.0.1.
//!
//! Janus never gathers ICE candidates on a loopback interface (its `ice.c` skips `IFF_LOOPBACK`), so its media
//! address is one local address of another interface ([`host_ipv4`]), the only one in its ICE enforce list; the
//! load generator's peers bind to the same address. Traffic between two local addresses never leaves the
//! machine (Linux delivers it through the loopback device).
//!
//! Run it with `janus -F DIR -C DIR/janus.jcfg` (see [`janus_command_line`]).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::error::LoadError;

/// Where Debian installs Janus's plugins and transports.
pub const DEBIAN_MODULES: &str = "/usr/lib/x86_64-linux-gnu/janus";

/// What the generated configuration may vary.
#[derive(Debug, Clone)]
pub struct JanusConfig {
    /// WebSocket API port on 127.0.0.1.
    pub ws_port: u16,
    /// The address Janus gathers its (one) ICE candidate on.
    pub media_ip: Ipv4Addr,
    /// Folder with `plugins/` and `transports/` of the installed Janus.
    pub modules: PathBuf,
    /// RTP/RTCP port range, e.g. `(20000, 20999)`; `None` lets the system pick.
    pub rtp_ports: Option<(u16, u16)>,
    /// Janus log level 0–7 (4 = info).
    pub debug_level: u8,
}

impl JanusConfig {
    pub fn new(ws_port: u16, media_ip: Ipv4Addr) -> JanusConfig {
        JanusConfig { ws_port, media_ip, modules: PathBuf::from(DEBIAN_MODULES), rtp_ports: None, debug_level: 3 }
    }
}

/// The first IPv4 address of an interface that is up and not loopback (for Janus's candidates), if any.
pub fn host_ipv4() -> Option<Ipv4Addr> {
    let mut found = None;
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list we only read and then free with freeifaddrs; every
    // pointer is checked for null before use, and an AF_INET ifa_addr points to a sockaddr_in.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return None;
        }
        let mut p = list;
        while !p.is_null() && found.is_none() {
            let ifa = &*p;
            let up = ifa.ifa_flags & (libc::IFF_UP as u32) != 0 && ifa.ifa_flags & (libc::IFF_RUNNING as u32) != 0;
            let lo = ifa.ifa_flags & (libc::IFF_LOOPBACK as u32) != 0;
            if up && !lo && !ifa.ifa_addr.is_null() && (*ifa.ifa_addr).sa_family as i32 == libc::AF_INET {
                let sin = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                if !ip.is_loopback() && !ip.is_unspecified() && !ip.is_link_local() {
                    found = Some(ip);
                }
            }
            p = ifa.ifa_next;
        }
        libc::freeifaddrs(list);
    }
    found
}

/// [`host_ipv4`], or an error that says why it is needed.
pub fn require_host_ipv4() -> Result<Ipv4Addr, LoadError> {
    host_ipv4().ok_or_else(|| {
        LoadError::Arg(
            "no IPv4 address on a non-loopback interface: Janus gathers no ICE candidates on loopback (give one \
             with --ip / --bind-ip)"
                .into(),
        )
    })
}

fn write(path: &Path, text: &str) -> Result<(), LoadError> {
    std::fs::write(path, text).map_err(|source| LoadError::Write { path: path.display().to_string(), source })
}

/// Link one module (e.g. `plugins/libjanus_videoroom.so`) into `dir`, so Janus loads only that one.
fn link_module(cfg: &JanusConfig, dir: &Path, kind: &str, file: &str) -> Result<(), LoadError> {
    let src = cfg.modules.join(kind).join(file);
    if !src.exists() {
        return Err(LoadError::Arg(format!(
            "{} not found: install Debian's janus package (apt-get install janus) or give its module folder",
            src.display()
        )));
    }
    let folder = dir.join(kind);
    std::fs::create_dir_all(&folder)?;
    let dst = folder.join(file);
    let _ = std::fs::remove_file(&dst);
    std::os::unix::fs::symlink(&src, &dst)
        .map_err(|source| LoadError::Write { path: dst.display().to_string(), source })
}

/// Write `janus.jcfg`, the VideoRoom and WebSocket configurations and the module folders into `dir`.
pub fn write_config(cfg: &JanusConfig, dir: &Path) -> Result<(), LoadError> {
    std::fs::create_dir_all(dir)?;
    let dir = dir.canonicalize()?;
    link_module(cfg, &dir, "plugins", "libjanus_videoroom.so")?;
    link_module(cfg, &dir, "transports", "libjanus_websockets.so")?;
    for empty in ["events", "loggers"] {
        std::fs::create_dir_all(dir.join(empty))?;
    }
    let d = dir.display();
    let rtp = match cfg.rtp_ports {
        Some((a, b)) => format!("\trtp_port_range = \"{a}-{b}\"\n"),
        None => String::new(),
    };
    write(
        &dir.join("janus.jcfg"),
        &format!(
            "# Generated by plenum-loadtest janus-config: a Janus for load comparisons on loopback.\n\
             general: {{\n\
             \tconfigs_folder = \"{d}\"\n\
             \tplugins_folder = \"{d}/plugins\"\n\
             \ttransports_folder = \"{d}/transports\"\n\
             \tevents_folder = \"{d}/events\"\n\
             \tloggers_folder = \"{d}/loggers\"\n\
             \tdebug_level = {lvl}\n\
             \tdebug_timestamps = true\n\
             \tdebug_colors = false\n\
             \tserver_name = \"plenum-loadtest\"\n\
             \tinterface = \"{ip}\"\n\
             \tsession_timeout = 60\n\
             }}\n\
             media: {{\n{rtp}}}\n\
             nat: {{\n\
             \tnice_debug = false\n\
             \tice_enforce_list = \"{ip}\"\n\
             \tignore_mdns = true\n\
             }}\n\
             plugins: {{\n}}\n\
             transports: {{\n}}\n\
             loggers: {{\n}}\n\
             events: {{\n\tbroadcast = false\n}}\n",
            lvl = cfg.debug_level.min(7),
            ip = cfg.media_ip,
        ),
    )?;
    write(
        &dir.join("janus.transport.websockets.jcfg"),
        &format!(
            "general: {{\n\
             \tjson = \"compact\"\n\
             \tws = true\n\
             \tws_port = {}\n\
             \tws_ip = \"127.0.0.1\"\n\
             \twss = false\n\
             }}\n\
             admin: {{\n\
             \tadmin_ws = false\n\
             \tadmin_wss = false\n\
             }}\n",
            cfg.ws_port
        ),
    )?;
    // No static rooms: the load generator creates its rooms through the API.
    write(&dir.join("janus.plugin.videoroom.jcfg"), "general: {\n}\n")?;
    Ok(())
}

/// The arguments to start Janus in the foreground with the configuration in `dir`.
pub fn janus_command_line(dir: &Path) -> Vec<String> {
    vec!["-F".into(), dir.display().to_string(), "-C".into(), dir.join("janus.jcfg").display().to_string()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_folder_with_only_videoroom_and_websockets() {
        let modules = std::env::temp_dir().join(format!("lt-janus-mod-{}", std::process::id()));
        for (k, f) in [("plugins", "libjanus_videoroom.so"), ("transports", "libjanus_websockets.so")] {
            std::fs::create_dir_all(modules.join(k)).unwrap();
            std::fs::write(modules.join(k).join(f), b"").unwrap();
        }
        let dir = std::env::temp_dir().join(format!("lt-janus-cfg-{}", std::process::id()));
        let cfg = JanusConfig {
            ws_port: 18188,
            media_ip: Ipv4Addr::new(192, 0, 2, 7),
            modules: modules.clone(),
            rtp_ports: Some((30000, 30099)),
            debug_level: 4,
        };
        write_config(&cfg, &dir).unwrap();
        let main = std::fs::read_to_string(dir.join("janus.jcfg")).unwrap();
        assert!(main.contains("rtp_port_range = \"30000-30099\""));
        assert!(main.contains("ice_enforce_list = \"192.0.2.7\""));
        assert!(!main.contains("admin_secret"));
        let ws = std::fs::read_to_string(dir.join("janus.transport.websockets.jcfg")).unwrap();
        assert!(ws.contains("ws_port = 18188") && ws.contains("admin_ws = false"));
        let plugins: Vec<_> =
            std::fs::read_dir(dir.join("plugins")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(plugins, ["libjanus_videoroom.so"]);
        // Writing again over an existing folder works.
        write_config(&cfg, &dir).unwrap();
        // A missing installation is a clear error.
        let bad = JanusConfig { modules: dir.join("nope"), ..cfg };
        assert!(write_config(&bad, &dir).unwrap_err().to_string().contains("apt-get install janus"));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&modules);
    }
}
