//! A minimal hyper server with the benchmark's two endpoints: hand routing, no tower, the same
//! JSON work. What doudou's overhead is measured against.

use std::convert::Infallible;

use bench_server::{page, PageQuery, User};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

fn json(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
    resp
}

fn bad(message: &str) -> Response<Full<Bytes>> {
    json(
        StatusCode::BAD_REQUEST,
        serde_json::json!({"code": 400, "message": message}).to_string().into_bytes(),
    )
}

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/user") => {
            let id = req
                .uri()
                .query()
                .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("id=")))
                .and_then(|v| v.parse::<u64>().ok());
            match id {
                Some(id) => json(StatusCode::OK, serde_json::to_vec(&User::numbered(id)).unwrap_or_default()),
                None => bad("missing or invalid id"),
            }
        }
        (&Method::POST, "/page/users") => {
            let body = match req.into_body().collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => return Ok(bad("cannot read the body")),
            };
            match serde_json::from_slice::<PageQuery>(&body) {
                Ok(q) => json(StatusCode::OK, serde_json::to_vec(&page(q)).unwrap_or_default()),
                Err(_) => bad("invalid JSON"),
            }
        }
        _ => json(StatusCode::NOT_FOUND, b"{\"code\":404,\"message\":\"not found\"}".to_vec()),
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", doudou_benches::port())).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), hyper::service::service_fn(handle))
                .await;
        });
    }
}
