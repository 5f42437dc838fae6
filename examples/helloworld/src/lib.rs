//! The helloworld example: one service that uses every kind of parameter and response
//! doudou supports. The integration tests run it as a process and call it over HTTP.

use std::net::SocketAddr;
use std::time::Duration;

use doudou::{
    Created, Error, Event, EventStream, FileDownload, FromHead, Head, HeadDoc, HeaderMap, LastEventId, Raw,
    Redirect, SecurityScheme, SetCookie, Status, StatusCode, Text, UploadFile, WithHeaders,
};

/// A user.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Identifier.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Whether the account is active.
    pub active: bool,
}

impl User {
    /// The synthetic user of id `id`.
    pub fn numbered(id: u64) -> Self {
        Self { id, name: format!("user-{id}"), email: format!("user-{id}@example.com"), active: true }
    }
}

/// Which page of users to list.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct PageQuery {
    /// Zero-based page number.
    pub page: u64,
    /// Users per page, at most 100.
    pub size: u64,
}

/// One page of a list.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// Zero-based page number.
    pub page: u64,
    /// Items per page.
    pub size: u64,
    /// Items in all pages.
    pub total: u64,
    /// The items of this page.
    pub items: Vec<T>,
}

/// What `get_greet` answers.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Greeting {
    /// The greeting.
    pub message: String,
    /// The tags the caller sent.
    pub tags: Vec<String>,
    /// The caller's `User-Agent` header, if any.
    pub user_agent: Option<String>,
    /// The request's `X-Request-ID`: the caller's, or the one doudou generated (for logs and
    /// for passing on to the services this one calls).
    pub request_id: Option<String>,
    /// The caller's address.
    pub remote_ip: String,
}

/// A post of a user.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// The user.
    pub user_id: u64,
    /// The post's slug.
    pub slug: String,
}

/// Which node answered.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Whoami {
    /// The node name in the cluster (`GDD_MEM_NAME`), or the host name without gossip.
    pub node: String,
}

/// What `upload` saw.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Uploaded {
    /// The file's name.
    pub filename: String,
    /// Its media type.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// The sum of its bytes, to check the content arrived intact.
    pub checksum: u64,
    /// The `note` field sent with it.
    pub note: Option<String>,
}

/// What `get_scalars` received, as it was sent.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Scalars {
    /// One character, whitespace included.
    pub c: Option<char>,
    /// A finite 32-bit float.
    pub f: Option<f32>,
    /// A small integer.
    pub small: Option<i8>,
    /// A user id (a type alias of `u64`).
    pub user: Option<UserId>,
}

/// A user's id: an alias, bound as the `u64` it is.
pub type UserId = u64;

/// A postal address.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    /// Five-digit postal code.
    #[validate(regex(pattern = "^[0-9]{5}$"))]
    pub zip: String,
    /// City.
    #[validate(length(min = 1, max = 100))]
    pub city: String,
}

/// A user to create: every rule is checked before `create_user` runs, and a request that
/// breaks some is answered 400 naming each bad field.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    /// Display name, 1 to 64 characters.
    #[validate(length(min = 1, max = 64))]
    pub name: String,
    /// E-mail address.
    #[validate(email)]
    pub email: String,
    /// Age in years, 13 to 150.
    #[validate(range(min = 13, max = 150))]
    pub age: u8,
    /// Where the user lives (its fields have rules of their own).
    #[validate(nested)]
    pub address: Address,
    /// Home page, an absolute URL.
    #[validate(url)]
    pub website: Option<String>,
}

/// `image/svg+xml`, the media type of avatars.
#[derive(Debug)]
pub struct Svg;

impl doudou::MediaType for Svg {
    const MEDIA_TYPE: &'static str = "image/svg+xml";
}

/// The caching headers of an avatar.
#[doudou::model]
#[serde(rename_all = "kebab-case")]
#[derive(Debug, Clone, PartialEq)]
pub struct Caching {
    /// How long a cache may keep it.
    pub cache_control: String,
    /// Its version, for `If-None-Match`.
    pub etag: String,
}

/// The session cookie `sign_in` sets.
#[doudou::model]
#[serde(rename_all = "kebab-case")]
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// `session=<name>; Path=/; Secure; HttpOnly; SameSite=Lax`.
    pub set_cookie: Vec<SetCookie>,
}

/// A job accepted to run later.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its id.
    pub id: u64,
    /// What it does.
    pub task: String,
}

/// One tick of the ticker.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Its number, from 1; also the event's id.
    pub n: u64,
}

/// What a tenant-scoped call saw of its headers.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct TenantView {
    /// `X-Tenant`.
    pub tenant: String,
    /// `Accept-Language`, if sent.
    pub language: Option<String>,
    /// The `session` cookie, if sent.
    pub session: Option<String>,
}

/// Who calls, from `Authorization: Bearer demo-<name>`: an extractor of this example's own.
/// (A real service verifies a signed token here, or reads what an authenticating layer put
/// in the request's extensions.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's name.
    pub name: String,
}

impl Caller {
    /// The caller `name`, as a client sends it.
    pub fn named(name: &str) -> Self {
        Self { name: name.to_owned() }
    }
}

impl FromHead for Caller {
    fn from_head(head: &Head<'_>) -> Result<Self, Error> {
        let token = head.bearer_token().ok_or_else(|| {
            Error::unauthorized("missing credentials: send Authorization: Bearer demo-<name>")
        })?;
        match token.strip_prefix("demo-") {
            Some(name) if !name.is_empty() => Ok(Caller::named(name)),
            _ => Err(Error::unauthorized("unknown token: this example takes demo-<name>")),
        }
    }

    fn describe(doc: &mut HeadDoc<'_, '_>) {
        doc.security("bearerAuth", SecurityScheme::bearer().format("demo-<name>"));
    }

    fn send(&self, headers: &mut HeaderMap) -> Result<(), Error> {
        doudou::Bearer(format!("demo-{}", self.name)).send(headers)
    }
}

/// The business errors of the user methods: each variant is a status and a code on the wire,
/// and the generated client gives the variant back.
#[doudou::error]
#[derive(Debug, Clone, PartialEq)]
pub enum UserError {
    /// No user has this id.
    #[error(status = 404, code = 40401)]
    NotFound,
    /// The e-mail address is another user's.
    #[error(status = 409, code = 40901)]
    Conflict {
        /// That user's id.
        existing_id: u64,
    },
    /// Anything else: invalid input, an unreachable service.
    #[error(other)]
    Other(Error),
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotFound => f.write_str("no such user"),
            Self::Conflict { existing_id } => write!(f, "the e-mail address is user {existing_id}'s"),
            Self::Other(e) => f.write_str(e.message()),
        }
    }
}

/// The example service.
#[doudou::service]
pub trait Helloworld {
    /// Fetch one user.
    ///
    /// `GET /user?id=7`; 404 for id 0.
    async fn get_user(&self, id: u64) -> Result<User, Error>;

    /// A page of users: `POST /page/users` with a JSON body.
    async fn page_users(&self, query: PageQuery) -> Result<Page<User>, Error>;

    /// Delete a user: `DELETE /user?id=7` answers 204.
    async fn delete_user(&self, id: u64) -> Result<(), Error>;

    /// Add users in bulk (a JSON array body); answers how many were added, 409 for duplicate ids.
    #[post("/users/bulk")]
    async fn add_users(&self, users: Vec<User>) -> Result<usize, Error>;

    /// Replace a user; the body is optional and defaults to `user-{id}`.
    async fn put_user(&self, id: u64, user: Option<User>) -> Result<User, Error>;

    /// Greets `times` times (1 to 10), with repeated tags, a header and the caller's address.
    async fn get_greet(
        &self,
        name: String,
        #[validate(range(min = 1, max = 10))] times: Option<u32>,
        tags: Vec<String>,
        headers: HeaderMap,
        remote: SocketAddr,
    ) -> Result<Greeting, Error>;

    /// Sign up from a form (`application/x-www-form-urlencoded`) or the query string; the
    /// username `admin` is taken (409, code 4009).
    async fn sign_up(&self, username: String, password: String, age: Option<u8>) -> Result<User, Error>;

    /// Path parameters: `GET /users/7/posts/hello-world`.
    #[get("/users/{id}/posts/{slug}")]
    async fn user_post(&self, id: u64, slug: String) -> Result<Post, Error>;

    /// Upload one file (multipart field `file`) with an optional text field `note`.
    async fn upload(&self, file: UploadFile, note: Option<String>) -> Result<Uploaded, Error>;

    /// Download `size` bytes (default 1 MiB, capped at 64 MiB) named `name`, streamed in 64 KiB chunks.
    async fn get_download(&self, name: String, size: Option<u64>) -> Result<FileDownload, Error>;

    /// Always fails with the HTTP `status` asked for and code 1000 + status.
    async fn get_fail(&self, status: u16) -> Result<User, Error>;

    /// Waits `ms` milliseconds, then answers: for timeouts and graceful shutdown.
    async fn get_slow(&self, ms: u64) -> Result<String, Error>;

    /// Holds one of the 4 connections of a pretend database pool for `ms` milliseconds, waiting
    /// for one if all are taken: a service whose capacity is 4 calls per `ms` (overload tests).
    async fn get_pool(&self, ms: u64) -> Result<String, Error>;

    /// Panics: the server answers 500 and keeps serving.
    async fn get_panic(&self) -> Result<(), Error>;

    /// The node that answers: shows load balancing at work. With `HELLOWORLD_BROKEN=true` in
    /// its environment, the instance answers 500 instead (a failing instance, for the
    /// resilience tests).
    async fn get_whoami(&self) -> Result<Whoami, Error>;

    /// A catch-all route: `GET /static/css/site.css` answers `css/site.css`.
    #[get("/static/{*rest}")]
    async fn get_static(&self, rest: String) -> Result<String, Error>;

    /// Create a user: `POST /users` answers 201 Created with its `Location`; 409 (code 40901)
    /// when the e-mail address is another user's (`user-7@example.com` is user 7's).
    #[post("/users")]
    async fn create_user(&self, user: NewUser) -> Result<Created<User>, UserError>;

    /// A user's avatar, an SVG image, cacheable for an hour.
    #[get("/users/{id}/avatar")]
    async fn get_avatar(&self, id: u64) -> Result<WithHeaders<Raw<Svg>, Caching>, Error>;

    /// The message of the day, as plain text.
    async fn get_motd(&self) -> Result<Text, Error>;

    /// The old address of a user: `GET /people/7` moved permanently to `/users/7`.
    #[get("/people/{id}")]
    async fn people(&self, id: u64) -> Result<Redirect<301>, Error>;

    /// Accept a job to run later: 202 Accepted.
    async fn post_jobs(&self, task: String) -> Result<Status<202, Job>, Error>;

    /// Sign in with a form (the generated client sends the password in the body, never in the
    /// URL): sets the `session` cookie, 204; 401 for the password `wrong`.
    async fn sign_in(&self, username: String, password: String) -> Result<WithHeaders<(), Session>, Error>;

    /// Header and cookie parameters: the `X-Tenant` header (required), `Accept-Language` and
    /// the `session` cookie (optional).
    async fn get_tenant(
        &self,
        #[doudou(header)] x_tenant: String,
        #[doudou(header)] accept_language: Option<String>,
        #[doudou(cookie)] session: Option<String>,
    ) -> Result<TenantView, Error>;

    /// Who calls: needs `Authorization: Bearer demo-<name>` (401 otherwise).
    async fn get_me(&self, caller: Caller) -> Result<String, Error>;

    /// Server-Sent Events: `count` ticks (default 10, at most 100,000), one every `every_ms`
    /// milliseconds (default 1,000, at most 60,000), each named `tick` with its number as id;
    /// a client that reconnects with `Last-Event-ID: 7` gets 8 and on.
    async fn get_ticks(
        &self,
        count: Option<u64>,
        every_ms: Option<u64>,
        last: LastEventId,
    ) -> Result<EventStream<Tick>, Error>;

    /// Find a user: `GET /users/7`; 404 (code 40401) for 0 and ids past 1000 that were not
    /// created.
    #[get("/users/{id}")]
    async fn find_user(&self, id: u64) -> Result<User, UserError>;

    /// Echoes scalars exactly as sent: a `char` (spaces included), an `f32`, an `i8` and a
    /// `UserId` (an alias of `u64`).
    async fn get_scalars(
        &self,
        c: Option<char>,
        f: Option<f32>,
        small: Option<i8>,
        user: Option<UserId>,
    ) -> Result<Scalars, Error>;
}

/// The implementation.
#[derive(Debug, Default, Clone, Copy)]
pub struct Hello;

const TOTAL_USERS: u64 = 1000;

/// The users `create_user` made, after the synthetic ones.
static CREATED: std::sync::Mutex<std::collections::BTreeMap<u64, User>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());
const MAX_CREATED: usize = 10_000;

impl Helloworld for Hello {
    async fn get_static(&self, rest: String) -> Result<String, Error> {
        Ok(rest)
    }

    async fn get_scalars(
        &self,
        c: Option<char>,
        f: Option<f32>,
        small: Option<i8>,
        user: Option<UserId>,
    ) -> Result<Scalars, Error> {
        Ok(Scalars { c, f, small, user })
    }

    async fn get_avatar(&self, id: u64) -> Result<WithHeaders<Raw<Svg>, Caching>, Error> {
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><text x="8" y="40">{id}</text></svg>"#
        );
        let caching =
            Caching { cache_control: "public, max-age=3600".into(), etag: format!("\"avatar-{id}\"") };
        Ok(WithHeaders::new(Raw::new(svg), caching))
    }

    async fn get_motd(&self) -> Result<Text, Error> {
        Ok(Text::new("Hello from doudou"))
    }

    async fn people(&self, id: u64) -> Result<Redirect<301>, Error> {
        Ok(Redirect::to(format!("/users/{id}")))
    }

    async fn post_jobs(&self, task: String) -> Result<Status<202, Job>, Error> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Ok(Status(Job { id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed), task }))
    }

    async fn sign_in(&self, username: String, password: String) -> Result<WithHeaders<(), Session>, Error> {
        if password == "wrong" {
            return Err(Error::unauthorized("wrong user name or password"));
        }
        let cookie = SetCookie::new("session", &username).path("/");
        Ok(WithHeaders::new((), Session { set_cookie: vec![cookie] }))
    }

    async fn get_tenant(
        &self,
        x_tenant: String,
        accept_language: Option<String>,
        session: Option<String>,
    ) -> Result<TenantView, Error> {
        Ok(TenantView { tenant: x_tenant, language: accept_language, session })
    }

    async fn get_me(&self, caller: Caller) -> Result<String, Error> {
        Ok(caller.name)
    }

    async fn get_ticks(
        &self,
        count: Option<u64>,
        every_ms: Option<u64>,
        last: LastEventId,
    ) -> Result<EventStream<Tick>, Error> {
        let count = count.unwrap_or(10).min(100_000);
        let every = Duration::from_millis(every_ms.unwrap_or(1000).min(60_000));
        let after = match last.0.as_deref().map(str::parse::<u64>) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => return Err(Error::bad_request("Last-Event-ID is a tick's number")),
        };
        let ticks = futures_util::stream::unfold(after + 1, move |n| async move {
            if n > count {
                return None;
            }
            if !every.is_zero() {
                tokio::time::sleep(every).await;
            }
            Some((Event::new(Tick { n }).id(n.to_string()).name("tick"), n + 1))
        });
        Ok(EventStream::new(ticks))
    }

    async fn create_user(&self, user: NewUser) -> Result<Created<User>, UserError> {
        let synthetic = user.email.strip_prefix("user-").and_then(|rest| rest.strip_suffix("@example.com"));
        if let Some(existing_id) =
            synthetic.and_then(|n| n.parse::<u64>().ok()).filter(|n| (1..=TOTAL_USERS).contains(n))
        {
            return Err(UserError::Conflict { existing_id });
        }
        let mut created = CREATED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(existing) = created.values().find(|u| u.email == user.email) {
            return Err(UserError::Conflict { existing_id: existing.id });
        }
        if created.len() >= MAX_CREATED {
            return Err(UserError::Other(Error::unavailable(
                "this example keeps at most 10,000 created users",
            )));
        }
        let id = TOTAL_USERS + 1 + created.len() as u64;
        let new = User { id, name: user.name, email: user.email, active: true };
        created.insert(id, new.clone());
        Ok(Created::new(format!("/users/{id}"), new))
    }

    async fn find_user(&self, id: u64) -> Result<User, UserError> {
        if (1..=TOTAL_USERS).contains(&id) {
            return Ok(User::numbered(id));
        }
        let created = CREATED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        created.get(&id).cloned().ok_or(UserError::NotFound)
    }

    async fn get_user(&self, id: u64) -> Result<User, Error> {
        if id == 0 {
            return Err(Error::not_found("no user with id 0"));
        }
        Ok(User::numbered(id))
    }

    async fn page_users(&self, query: PageQuery) -> Result<Page<User>, Error> {
        let size = query.size.min(100);
        let first = query.page.saturating_mul(size);
        let items = (first..first.saturating_add(size)).map(User::numbered).collect();
        Ok(Page { page: query.page, size, total: TOTAL_USERS, items })
    }

    async fn delete_user(&self, id: u64) -> Result<(), Error> {
        if id == 0 {
            return Err(Error::not_found("no user with id 0"));
        }
        Ok(())
    }

    async fn add_users(&self, users: Vec<User>) -> Result<usize, Error> {
        let mut ids = std::collections::BTreeSet::new();
        if let Some(dup) = users.iter().find(|u| !ids.insert(u.id)) {
            return Err(Error::conflict(format!("user id {} appears twice", dup.id)));
        }
        Ok(users.len())
    }

    async fn put_user(&self, id: u64, user: Option<User>) -> Result<User, Error> {
        Ok(User { id, ..user.unwrap_or_else(|| User::numbered(id)) })
    }

    async fn get_greet(
        &self,
        name: String,
        times: Option<u32>,
        tags: Vec<String>,
        headers: HeaderMap,
        remote: SocketAddr,
    ) -> Result<Greeting, Error> {
        let times = times.unwrap_or(1);
        let message = vec![format!("Hello, {name}!"); times as usize].join(" ");
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(Greeting {
            message,
            tags,
            user_agent: header("user-agent"),
            request_id: header("x-request-id"),
            remote_ip: remote.ip().to_string(),
        })
    }

    async fn sign_up(&self, username: String, password: String, age: Option<u8>) -> Result<User, Error> {
        if username == "admin" {
            return Err(Error::conflict("the username admin is reserved").with_code(4009));
        }
        let _ = password;
        let id = username.bytes().map(u64::from).sum::<u64>() + u64::from(age.unwrap_or(0));
        Ok(User { id, name: username.clone(), email: format!("{username}@example.com"), active: true })
    }

    async fn user_post(&self, id: u64, slug: String) -> Result<Post, Error> {
        Ok(Post { user_id: id, slug })
    }

    async fn upload(&self, file: UploadFile, note: Option<String>) -> Result<Uploaded, Error> {
        Ok(Uploaded {
            filename: file.filename().to_owned(),
            content_type: file.content_type().to_owned(),
            size: file.bytes().len() as u64,
            checksum: file.bytes().iter().map(|b| u64::from(*b)).sum(),
            note,
        })
    }

    async fn get_download(&self, name: String, size: Option<u64>) -> Result<FileDownload, Error> {
        const CHUNK: u64 = 64 * 1024;
        const MAX: u64 = 64 << 20;
        let size = size.unwrap_or(1 << 20).min(MAX);
        let chunks = (0..size.div_ceil(CHUNK)).map(move |i| {
            let len = CHUNK.min(size - i * CHUNK) as usize;
            Ok(doudou::body::Bytes::from(
                (0..len).map(|j| ((i * CHUNK) as usize + j) as u8).collect::<Vec<u8>>(),
            ))
        });
        Ok(FileDownload::from_stream(name, futures_util::stream::iter(chunks))
            .with_content_type("application/octet-stream"))
    }

    async fn get_fail(&self, status: u16) -> Result<User, Error> {
        let status = StatusCode::from_u16(status)
            .ok()
            .filter(|s| s.is_client_error() || s.is_server_error())
            .ok_or_else(|| Error::bad_request(format!("status {status} is not an error status")))?;
        Err(Error::new(status, format!("failed as asked with {}", status.as_u16()))
            .with_code(1000 + i64::from(status.as_u16())))
    }

    async fn get_slow(&self, ms: u64) -> Result<String, Error> {
        doudou::tracing::info!("sleeping {ms}ms");
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(format!("slept {ms}ms"))
    }

    async fn get_pool(&self, ms: u64) -> Result<String, Error> {
        static POOL: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
        let _connection = POOL.acquire().await.map_err(|_| Error::unavailable("the pool is closed"))?;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(format!("held a connection {ms}ms"))
    }

    async fn get_panic(&self) -> Result<(), Error> {
        panic!("get_panic panics on purpose")
    }

    async fn get_whoami(&self) -> Result<Whoami, Error> {
        static BROKEN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if *BROKEN.get_or_init(|| std::env::var("HELLOWORLD_BROKEN").is_ok_and(|v| v == "true")) {
            return Err(Error::internal("this instance is broken on purpose (HELLOWORLD_BROKEN)"));
        }
        let node = doudou::registry::this_node_name().unwrap_or_else(doudou::registry::hostname);
        Ok(Whoami { node })
    }
}
