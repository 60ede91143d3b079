//! Watching the server (and ourselves): CPU and memory from `/proc`, counters from the server's `/metrics`.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// CPU time (user + system) of a process or thread, in seconds, from a `/proc/.../stat` text.
pub fn parse_stat_cpu_s(stat: &str) -> Option<f64> {
    parse_stat_user_sys_s(stat).map(|(u, s)| u + s)
}

/// User and system CPU seconds from a `/proc/.../stat` line (clock-tick resolution, usually 10 ms).
pub fn parse_stat_user_sys_s(stat: &str) -> Option<(f64, f64)> {
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime / clock_ticks(), stime / clock_ticks()))
}

/// User and system CPU seconds of one thread (clock ticks; for the split, not for the total).
pub fn thread_user_sys_s(pid: u32, tid: u32) -> Option<(f64, f64)> {
    parse_stat_user_sys_s(&std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).ok()?)
}

/// The calling thread's id.
pub fn this_tid() -> u32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as u32 }
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// CPU seconds used by process `pid` so far.
pub fn process_cpu_s(pid: u32) -> Option<f64> {
    parse_stat_cpu_s(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Resident memory of `pid` in bytes.
pub fn process_rss(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    Some(pages * page)
}

/// A running server process of the target (by its command name: `plenum` running `serve`, or `janus`), other
/// than ourselves.
pub fn find_server_pid(target: crate::client::Target) -> Option<u32> {
    let me = std::process::id();
    let mut found = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let serving = cmdline.split(|b| *b == 0).any(|a| a == b"serve");
        let ours = match target {
            crate::client::Target::Plenum => comm.trim() == "plenum" && serving,
            crate::client::Target::Janus => comm.trim() == "janus",
        };
        if ours {
            found = Some(pid);
        }
    }
    found
}

/// How many CPUs `pid` may run on (its affinity), from `Cpus_allowed_list` in `/proc/<pid>/status`.
pub fn allowed_cpus(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(|list| count_cpu_list(list.trim()))
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// Count CPUs in a list like `0-3,6,8-9`.
pub fn count_cpu_list(list: &str) -> usize {
    list.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.trim().split_once('-') {
            Some((a, b)) => match (a.parse::<usize>(), b.parse::<usize>()) {
                (Ok(a), Ok(b)) if b >= a => b - a + 1,
                _ => 0,
            },
            None => p.trim().parse::<usize>().map(|_| 1).unwrap_or(0),
        })
        .sum()
}

/// Thread ids of `pid` whose name starts with `prefix`.
pub fn threads_named(pid: u32, prefix: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return vec![];
    };
    let mut tids: Vec<u32> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .filter(|tid: &u32| {
            std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).is_ok_and(|c| c.trim().starts_with(prefix))
        })
        .collect();
    tids.sort_unstable();
    tids
}

/// CPU time of one thread in nanoseconds: `schedstat` (ns resolution) if the kernel has it, else `stat` (ticks).
pub fn thread_cpu_ns(pid: u32, tid: u32) -> Option<u64> {
    if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat"))
        && let Some(ns) = s.split_whitespace().next().and_then(|v| v.parse().ok())
    {
        return Some(ns);
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).ok()?;
    parse_stat_cpu_s(&stat).map(|s| (s * 1e9) as u64)
}

/// CPU time of the calling thread (ns), `CLOCK_THREAD_CPUTIME_ID`.
pub fn this_thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: valid pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// GET `/metrics` from the server (plain HTTP/1.0 on loopback; bounded in time and size).
pub async fn scrape_metrics(addr: SocketAddr) -> Option<String> {
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(format!("GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes()).await.ok()?;
        let mut body = Vec::new();
        s.take(16 << 20).read_to_end(&mut body).await.ok()?;
        let text = String::from_utf8_lossy(&body).into_owned();
        let start = text.find("\r\n\r\n")? + 4;
        Some(text[start..].to_string())
    };
    tokio::time::timeout(Duration::from_secs(2), fut).await.ok().flatten()
}

/// Sum of all samples of metric `name` (any labels) in a Prometheus text exposition.
pub fn metric_sum(text: &str, name: &str) -> Option<f64> {
    let mut sum = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !(rest.starts_with(' ') || rest.starts_with('{')) {
            continue;
        }
        let value = rest.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
        if let Some(v) = value {
            *sum.get_or_insert(0.0) += v;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing_survives_odd_names() {
        let stat = "1234 (sfu (worker) 0) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 0 0";
        let cpu = parse_stat_cpu_s(stat).unwrap();
        assert!((cpu - 300.0 / clock_ticks()).abs() < 1e-9);
        assert_eq!(parse_stat_cpu_s("garbage"), None);
        assert_eq!(parse_stat_cpu_s("1 (x) S 1"), None);
    }

    #[test]
    fn own_process_and_thread_are_visible() {
        let me = std::process::id();
        assert!(process_cpu_s(me).is_some());
        assert!(process_rss(me).unwrap() > 0);
        assert!(allowed_cpus(me) >= 1);
        assert!(this_thread_cpu_ns() > 0);
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(count_cpu_list("0-3,6,8-9"), 7);
        assert_eq!(count_cpu_list("1"), 1);
        assert_eq!(count_cpu_list(""), 0);
        assert_eq!(count_cpu_list("3-1,x"), 0);
    }

    #[test]
    fn metric_sums_over_labels() {
        let text = "# HELP x\nplenum_sfu_rtp_packets_forwarded_total 10\n\
                    plenum_sfu_rtp_packets_forwarded_total_other 99\n\
                    plenum_sfu_packets_dropped_total{reason=\"a\"} 2\n\
                    plenum_sfu_packets_dropped_total{reason=\"b\"} 3\n";
        assert_eq!(metric_sum(text, "plenum_sfu_rtp_packets_forwarded_total"), Some(10.0));
        assert_eq!(metric_sum(text, "plenum_sfu_packets_dropped_total"), Some(5.0));
        assert_eq!(metric_sum(text, "nope"), None);
    }
}
