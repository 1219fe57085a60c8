//! Asking an NTP server for the time: one SNTP request (RFC 4330, client
//! mode, version 4) to UDP port 123 of one address, through the `rsntp`
//! crate, which also checks the reply (it must answer our request's
//! timestamp, come from a synchronised server, and not be a kiss-o'-death).

use rsntp::{Config, ProtocolError, SntpClient, SynchronizationError};
use serde::Serialize;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

pub const PORT: u16 = 123;

/// What a server's reply said.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Answer {
    /// The server's stratum (1 for a server with its own reference clock).
    pub stratum: u8,
    /// The round-trip delay of the exchange, in milliseconds.
    pub delay_ms: f64,
    /// The server's clock minus this machine's, in milliseconds.
    pub offset_ms: f64,
    /// The server's reference: a clock's code at stratum 1, the upstream
    /// server's IPv4 address (or an IPv6 address's hash) below.
    pub reference: String,
}

/// The outcome of asking one address.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Answered(Answer),
    /// A reply no client would take the time from: the server's clock is not
    /// synchronised, or it sent a kiss-o'-death.
    Unusable(String),
    /// No reply (timeouts, or the network said no).
    NoAnswer(String),
}

/// Asks `server` (an address with port, normally [`PORT`]) up to `attempts`
/// times, waiting `timeout` for each reply. Only a missing or malformed
/// reply is tried again; a refusal or an unusable reply is final.
pub fn probe(server: SocketAddr, timeout: Duration, attempts: u32) -> Outcome {
    let bind: IpAddr = match server {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let client = SntpClient::with_config(
        Config::default()
            .bind_address(SocketAddr::new(bind, 0))
            .timeout(timeout),
    );
    let attempts = attempts.max(1);
    let mut last = String::new();
    for _ in 0..attempts {
        match client.synchronize(server) {
            Ok(result) => {
                return Outcome::Answered(Answer {
                    stratum: result.stratum(),
                    delay_ms: microseconds(result.round_trip_delay().as_secs_f64()),
                    offset_ms: microseconds(result.clock_offset().as_secs_f64()),
                    reference: result.reference_identifier().to_string(),
                })
            }
            Err(SynchronizationError::IOError(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                last = no_reply(timeout, attempts);
            }
            Err(SynchronizationError::IOError(e)) => {
                return Outcome::NoAnswer(match e.kind() {
                    ErrorKind::ConnectionRefused => format!(
                        "refused: nothing listens on UDP port {} there",
                        server.port()
                    ),
                    _ => strip_os_error(&e.to_string()),
                })
            }
            Err(SynchronizationError::ProtocolError(ProtocolError::ServerNotSynchronized)) => {
                return Outcome::Unusable(
                    "its clock is not synchronised (leap indicator 3 or stratum 16)".into(),
                )
            }
            Err(SynchronizationError::ProtocolError(ProtocolError::KissODeath(code))) => {
                return Outcome::Unusable(format!(
                    "it sent a kiss-o'-death ({})",
                    code.to_string().trim()
                ))
            }
            // A malformed or stray reply: ask again.
            Err(SynchronizationError::ProtocolError(e)) => {
                last = format!("invalid reply: {e}");
            }
        }
    }
    Outcome::NoAnswer(last)
}

/// Seconds as milliseconds, to the microsecond (SNTP is no more precise).
fn microseconds(seconds: f64) -> f64 {
    (seconds * 1_000_000.0).round() / 1000.0
}

fn no_reply(timeout: Duration, attempts: u32) -> String {
    let requests = if attempts == 1 {
        "1 request".to_string()
    } else {
        format!("{attempts} requests")
    };
    format!(
        "no reply to {requests} within {} s each",
        trim_float(timeout.as_secs_f64())
    )
}

/// "Network is unreachable (os error 101)" → "network is unreachable".
fn strip_os_error(text: &str) -> String {
    let text = match text.rfind(" (os error ") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// 2.0 → "2", 0.5 → "0.5".
pub fn trim_float(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::Instant;

    /// A one-shot responder on the loopback address that answers the first
    /// request with `reply(request)`.
    fn responder(reply: fn(&[u8]) -> Vec<u8>) -> (SocketAddr, std::thread::JoinHandle<()>) {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let address = socket.local_addr().expect("address");
        let handle = std::thread::spawn(move || {
            let mut buffer = [0u8; 128];
            if let Ok((n, from)) = socket.recv_from(&mut buffer) {
                let _ = socket.send_to(&reply(&buffer[..n]), from);
            }
        });
        (address, handle)
    }

    #[test]
    fn messages() {
        assert_eq!(
            no_reply(Duration::from_secs(2), 2),
            "no reply to 2 requests within 2 s each"
        );
        assert_eq!(
            no_reply(Duration::from_millis(500), 1),
            "no reply to 1 request within 0.5 s each"
        );
        assert_eq!(
            strip_os_error("Network is unreachable (os error 101)"),
            "network is unreachable"
        );
    }

    /// A reply to `request` as a server would send it: the request's
    /// transmit timestamp as originate, receive and transmit timestamp.
    fn reply_to(request: &[u8], first_byte: u8, stratum: u8) -> Vec<u8> {
        let mut reply = vec![0u8; 48];
        reply[0] = first_byte;
        reply[1] = stratum;
        reply[12..16].copy_from_slice(&[198, 18, 0, 1]);
        reply[24..32].copy_from_slice(&request[40..48]);
        reply[32..40].copy_from_slice(&request[40..48]);
        reply[40..48].copy_from_slice(&request[40..48]);
        reply
    }

    #[test]
    fn a_reply_gives_stratum_delay_and_offset() {
        // leap indicator 0, version 4, mode 4 (server)
        let (address, handle) = responder(|request| reply_to(request, 4 << 3 | 4, 3));
        let outcome = probe(address, Duration::from_secs(2), 2);
        handle.join().expect("responder");
        let Outcome::Answered(answer) = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(answer.stratum, 3);
        assert_eq!(answer.reference, "198.18.0.1");
        assert!((0.0..1000.0).contains(&answer.delay_ms), "{answer:?}");
        assert!(answer.offset_ms.abs() < 1000.0, "{answer:?}");
    }

    #[test]
    fn an_unsynchronised_server_is_unusable() {
        // leap indicator 3 (alarm), stratum 16
        let (address, handle) = responder(|request| reply_to(request, 3 << 6 | 4 << 3 | 4, 16));
        let outcome = probe(address, Duration::from_secs(2), 2);
        handle.join().expect("responder");
        assert!(
            matches!(&outcome, Outcome::Unusable(m) if m.contains("not synchronised")),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_kiss_of_death_is_unusable() {
        let (address, handle) = responder(|request| {
            let mut reply = reply_to(request, 4 << 3 | 4, 0);
            reply[12..16].copy_from_slice(b"RATE");
            reply
        });
        let outcome = probe(address, Duration::from_secs(2), 2);
        handle.join().expect("responder");
        assert!(
            matches!(&outcome, Outcome::Unusable(m) if m.contains("kiss-o'-death")),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_closed_port_is_refused_at_once() {
        // A loopback port nothing listens on (bound, then closed).
        let address = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("free port");
        let started = Instant::now();
        let outcome = probe(address, Duration::from_secs(2), 2);
        assert!(
            matches!(&outcome, Outcome::NoAnswer(m) if m.starts_with("refused")),
            "{outcome:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn silence_is_tried_again_then_given_up() {
        // A socket that never answers.
        let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let started = Instant::now();
        let outcome = probe(
            silent.local_addr().expect("address"),
            Duration::from_millis(150),
            2,
        );
        let elapsed = started.elapsed();
        assert_eq!(
            outcome,
            Outcome::NoAnswer("no reply to 2 requests within 0.15 s each".into())
        );
        assert!(
            elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(2),
            "{elapsed:?}"
        );
        let mut buffer = [0u8; 64];
        silent
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let mut requests = 0;
        while silent.recv_from(&mut buffer).is_ok() {
            requests += 1;
        }
        assert_eq!(requests, 2);
    }

    #[test]
    fn milliseconds_to_the_microsecond() {
        assert_eq!(microseconds(0.000_412_345), 0.412);
        assert_eq!(microseconds(-1.5), -1500.0);
    }

    #[test]
    fn floats_without_trailing_zeros() {
        assert_eq!(trim_float(2.0), "2");
        assert_eq!(trim_float(0.25), "0.25");
    }
}
