//! The redirect benchmark's peer (`affiliate-server/bench/redirect.sh`): bare hyper
//! answering every request with the same static `302` affiliate-server sends for a
//! click (`Location`, `Set-Cookie`, `Cache-Control`), served the way affiliate-server
//! serves: one single-threaded tokio runtime per core, each with its own listening
//! socket on the port (`SO_REUSEPORT`), HTTP/1.1 keep-alive, `TCP_NODELAY`. What
//! affiliate-server spends on top of this is what tracking costs.
//!
//! `bare-hyper PORT LOCATION SET_COOKIE` (prints `listening` once every worker listens).

use std::convert::Infallible;
use std::net::SocketAddr;

use hyper::header::{CACHE_CONTROL, HeaderValue, LOCATION, SET_COOKIE};
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [port, location, cookie] = args.as_slice() else {
        return Err("usage: bare-hyper PORT LOCATION SET_COOKIE".into());
    };
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let location = HeaderValue::from_str(location)?;
    let cookie = HeaderValue::from_str(cookie)?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut threads = Vec::new();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    for _ in 0..workers {
        let (location, cookie, ready) = (location.clone(), cookie.clone(), ready_tx.clone());
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.set_reuseport(true)?;
        socket.bind(addr)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        threads.push(std::thread::spawn(move || {
            runtime.block_on(async move {
                let listener = socket.listen(1024).expect("listen");
                let _ = ready.send(());
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let (location, cookie) = (location.clone(), cookie.clone());
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |_req| {
                            let mut resp = Response::new(String::new());
                            *resp.status_mut() = StatusCode::FOUND;
                            let h = resp.headers_mut();
                            h.insert(LOCATION, location.clone());
                            h.insert(SET_COOKIE, cookie.clone());
                            h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                            async move { Ok::<_, Infallible>(resp) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            })
        }));
    }
    for _ in 0..workers {
        ready_rx.recv()?;
    }
    println!("listening on http://{addr}");
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}
