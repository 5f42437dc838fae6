//! The benchmark's two endpoints in axum, for comparison.

use axum::extract::Query;
use axum::routing::{get, post};
use axum::{Json, Router};
use bench_server::{page, Page, PageQuery, User};

#[derive(serde::Deserialize)]
struct Id {
    id: u64,
}

async fn get_user(Query(q): Query<Id>) -> Json<User> {
    Json(User::numbered(q.id))
}

async fn page_users(Json(q): Json<PageQuery>) -> Json<Page> {
    Json(page(q))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = Router::new().route("/user", get(get_user)).route("/page/users", post(page_users));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", doudou_benches::port())).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
