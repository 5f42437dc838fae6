//! Binding through the generated client against helloworld as a process: what the server
//! binds, the client sends and reads back. The same cases over HTTP without a socket are in
//! `in_memory.rs`.

use doudou::StatusCode;
use doudou_tests::{bin, start, Proc};
use helloworld::{Helloworld, HelloworldClient, Scalars, User};

fn helloworld() -> (Proc, HelloworldClient) {
    let svc = start(&bin("helloworld"), &[], None).expect("helloworld starts");
    let client = HelloworldClient::new(svc.base_url());
    (svc, client)
}

#[tokio::test]
async fn the_client_keeps_a_catch_alls_slashes() {
    let (_svc, client) = helloworld();
    for rest in ["css/a b/c.css", "one", "a/%2F/ü?#"] {
        assert_eq!(client.get_static(rest.into()).await.expect("get_static"), rest, "{rest}");
    }
}

#[tokio::test]
async fn the_client_sends_scalars_exactly_and_reads_back_what_the_server_accepts() {
    let (_svc, client) = helloworld();
    for c in [' ', '\t', '&', '='] {
        let got = client.get_scalars(Some(c), None, None, None).await.expect("client char");
        assert_eq!(got.c, Some(c));
    }
    // No `null` where a float was.
    let got = client.get_scalars(None, Some(3.4e38), Some(-128), Some(u64::MAX)).await.expect("client");
    assert_eq!(got, Scalars { c: None, f: Some(3.4e38), small: Some(-128), user: Some(u64::MAX) });
    assert_eq!(client.get_scalars(None, None, None, Some(42)).await.expect("alias").user, Some(42));
}

#[tokio::test]
async fn the_client_sends_no_body_for_none_and_an_uploads_scalars_in_the_form() {
    let (_svc, client) = helloworld();
    assert_eq!(client.put_user(4, None).await.expect("put_user None").name, "user-4");
    let file = doudou::UploadFile::new("n.txt", "text/plain", &b"abc"[..]);
    let up = client.upload(file, Some("sent in the form".into())).await.expect("upload");
    assert_eq!(up.note.as_deref(), Some("sent in the form"));
    let err = client.get_user(0).await.expect_err("404");
    assert_eq!(err.status(), StatusCode::NOT_FOUND);
    assert_eq!(client.get_user(7).await.expect("user"), User::numbered(7));
}
