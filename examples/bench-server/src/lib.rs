//! The service the load benchmark (`benches/load.sh`) runs against a hand-written hyper server
//! and an axum one with the same two endpoints.

use doudou::Error;

/// A user.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Identifier.
    pub id: u64,
    /// `user-{id}`.
    pub name: String,
    /// `user-{id}@example.com`.
    pub email: String,
    /// Always true.
    pub active: bool,
}

impl User {
    /// The user of id `id`.
    pub fn numbered(id: u64) -> Self {
        Self { id, name: format!("user-{id}"), email: format!("user-{id}@example.com"), active: true }
    }
}

/// Which page.
#[doudou::model]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageQuery {
    /// Page number.
    pub page: u64,
    /// Page size, capped at 100.
    pub size: u64,
}

/// A page of users.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Page number.
    pub page: u64,
    /// Page size.
    pub size: u64,
    /// Users in all pages.
    pub total: u64,
    /// This page's users, ids `page*size .. page*size+size-1`.
    pub items: Vec<User>,
}

/// The benchmark's service.
#[doudou::service]
pub trait Bench {
    /// `GET /user?id=7`.
    async fn get_user(&self, id: u64) -> Result<User, Error>;
    /// `POST /page/users` with `{"page":p,"size":s}`.
    async fn page_users(&self, query: PageQuery) -> Result<Page, Error>;
}

/// The implementation.
#[derive(Debug, Default, Clone, Copy)]
pub struct BenchImpl;

impl Bench for BenchImpl {
    async fn get_user(&self, id: u64) -> Result<User, Error> {
        Ok(User::numbered(id))
    }

    async fn page_users(&self, query: PageQuery) -> Result<Page, Error> {
        Ok(page(query))
    }
}

/// The page the endpoint answers (shared with the baselines of the benchmark).
pub fn page(query: PageQuery) -> Page {
    let size = query.size.min(100);
    let first = query.page.saturating_mul(size);
    Page {
        page: query.page,
        size,
        total: 1000,
        items: (first..first.saturating_add(size)).map(User::numbered).collect(),
    }
}
