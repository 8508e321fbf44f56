//! The OAuth loopback listener under hostile local traffic: 130 clients
//! that trickle their request one byte at a time, and a flood of 200 stray
//! requests, must not keep the real callback out. (The hand-written
//! listener this replaces had 128 slots and a per-read timeout: the
//! callback went unanswered with 130 trickling clients.)

use crate::support::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn start_flow(t: &T, peer: &Peer) -> (std::process::Child, url::Url, u16) {
    let mut child = t
        .std_cmd()
        .args([
            "add",
            "oauth2",
            "custom",
            "--name",
            "hostile",
            "--issuer",
            &peer.issuer,
        ])
        .args([
            "--client-id",
            "public-native",
            "--no-browser",
            "--timeout",
            "60",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no URL printed");
        if line.trim().starts_with(&peer.issuer) {
            break url::Url::parse(line.trim()).unwrap();
        }
    };
    // Keep draining stderr (the spinner writes to it).
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    let port = url::Url::parse(&q["redirect_uri"]).unwrap().port().unwrap();
    (child, url, port)
}

fn finish_flow(url: &url::Url) -> Duration {
    let started = Instant::now();
    let ok = std::process::Command::new("node")
        .arg(format!("{PEER_DIR}/browser.mjs"))
        .arg(url.as_str())
        .status()
        .unwrap();
    assert!(ok.success(), "the browser's callback was not answered");
    started.elapsed()
}

#[test]
fn trickling_clients_do_not_starve_the_callback() {
    let peer = Peer::start();
    let mut t = T::new();
    t.env("BROWSER", &Peer::browser());
    t.init();
    let (mut child, url, port) = start_flow(&t, &peer);

    // 130 connections, each sending its request head one byte at a time.
    let mut slow: Vec<TcpStream> = (0..130)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"G").unwrap();
            s
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let trickler = std::thread::spawn(move || {
        let head = b"ET /callback?state=x&code=y HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ";
        let mut i = 0;
        while !stop2.load(Ordering::Relaxed) {
            for s in slow.iter_mut() {
                let b = head.get(i).copied().unwrap_or(b'a');
                let _ = s.write_all(&[b]);
            }
            i += 1;
            // The attacker's pace, not a synchronization.
            std::thread::sleep(Duration::from_millis(100));
        }
        slow.len()
    });

    let callback = finish_flow(&url);
    stop.store(true, Ordering::Relaxed);
    assert_eq!(trickler.join().unwrap(), 130);
    assert!(child.wait().unwrap().success());
    eprintln!(
        "loopback listener: callback answered {} ms after the browser started, with 130 trickling clients connected",
        callback.as_millis()
    );
    // Served at once, not after the slow clients' header timeout (5 s).
    assert!(callback < Duration::from_secs(4), "{callback:?}");
    assert_eq!(peer.grants("authorization_code"), 1);
}

#[test]
fn a_flood_of_stray_requests_does_not_starve_the_callback() {
    let peer = Peer::start();
    let mut t = T::new();
    t.env("BROWSER", &Peer::browser());
    t.init();
    let (mut child, url, port) = start_flow(&t, &peer);
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let http = reqwest::blocking::Client::new();
    std::thread::scope(|s| {
        for i in 0..8 {
            let http = &http;
            let base = &base;
            s.spawn(move || {
                for j in 0..25 {
                    let r = http.get(format!("{base}/stray/{i}/{j}")).send().unwrap();
                    assert_eq!(r.status().as_u16(), 404);
                }
            });
        }
    });
    let flood = started.elapsed();
    let callback = finish_flow(&url);
    assert!(child.wait().unwrap().success());
    eprintln!(
        "loopback listener: 200 stray requests answered in {} ms; then the callback flow took {} ms",
        flood.as_millis(),
        callback.as_millis()
    );
    assert!(callback < Duration::from_secs(4), "{callback:?}");
}
