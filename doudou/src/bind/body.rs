//! JSON bodies and the parameters that read the request itself (headers, peer address,
//! uploaded files).
//!
//! A type is a JSON body when it is a [`Model`]: what `#[doudou::model]` marks, and the
//! standard containers of models. `Option<M>` is an optional body: no body, or `null`, is
//! `None`.

use std::marker::PhantomData;
use std::net::SocketAddr;

use http::HeaderMap;

use super::{Binder, Files, NoBody, OneJson};
use crate::body::UploadFile;
use crate::client::Call;
use crate::error::Error;
use crate::openapi::Operation;
use crate::request::Request;
use crate::validate::{Model, Report};

/// Binds the JSON body.
#[doc(hidden)]
pub struct JsonBody<T> {
    name: &'static str,
    model: PhantomData<fn() -> T>,
}

impl<T> JsonBody<T> {
    pub(crate) const fn new(name: &'static str) -> Self {
        Self { name, model: PhantomData }
    }
}

impl<T: Model> Binder for JsonBody<T> {
    type Value = T;
    type Slot = OneJson;
    const CHECKED: bool = T::VALIDATES;

    fn name(&self) -> &'static str {
        self.name
    }

    fn bind(&self, req: &mut Request) -> Result<T, Error> {
        let Some(body) = req.take_json(self.name)? else {
            return T::absent()
                .ok_or_else(|| Error::bad_request(format!("missing JSON body `{}`", self.name)));
        };
        serde_json::from_slice(&body)
            .map_err(|e| Error::bad_request(format!("invalid JSON body `{}`: {e}", self.name)))
    }

    fn check(&self, value: &T, report: &mut Report) {
        value.validate(report);
    }

    fn describe(&self, op: &mut Operation<'_>) {
        op.json_body::<T>(T::absent().is_none());
    }

    fn send(&self, value: T, call: &mut Call<'_>) {
        if !value.is_absent() {
            call.json(&value);
        }
    }
}

/// A parameter that reads the request itself rather than one named value.
#[doc(hidden)]
pub trait FromRequest: Sized + Send + 'static {
    /// What it takes of the body: `NoBody`, or `Files`.
    type Slot;
    /// Binds the parameter `name`.
    fn from_request(req: &mut Request, name: &str) -> Result<Self, Error>;
    /// Adds it to the operation.
    fn describe(_op: &mut Operation<'_>, _name: &str) {}
    /// Puts it in an outgoing call.
    fn send(self, call: &mut Call<'_>, name: &'static str);
}

/// The request headers, with the `X-Request-ID` doudou generated when the client sent none;
/// the client sends them along.
impl FromRequest for HeaderMap {
    type Slot = NoBody;
    fn from_request(req: &mut Request, _: &str) -> Result<Self, Error> {
        Ok(req.headers())
    }

    fn send(self, call: &mut Call<'_>, _: &'static str) {
        call.headers(&self);
    }
}

/// The peer's address; the client sends nothing.
impl FromRequest for SocketAddr {
    type Slot = NoBody;
    fn from_request(req: &mut Request, _: &str) -> Result<Self, Error> {
        Ok(req.remote_addr())
    }

    fn send(self, _: &mut Call<'_>, _: &'static str) {}
}

impl FromRequest for UploadFile {
    type Slot = Files;

    fn from_request(req: &mut Request, name: &str) -> Result<Self, Error> {
        Option::<UploadFile>::from_request(req, name)?.ok_or_else(|| {
            Error::bad_request(if req.is_multipart() {
                format!("missing file `{name}`")
            } else {
                format!("missing file `{name}`: send it in a multipart/form-data body")
            })
        })
    }

    fn describe(op: &mut Operation<'_>, name: &str) {
        op.file(name, true, false);
    }

    fn send(self, call: &mut Call<'_>, name: &'static str) {
        call.file(name, self);
    }
}

impl FromRequest for Option<UploadFile> {
    type Slot = Files;

    fn from_request(req: &mut Request, name: &str) -> Result<Self, Error> {
        let mut files = req.take_files(name);
        if files.is_empty() {
            if let Some(e) = req.sent_as_text(name) {
                return Err(e);
            }
        }
        if files.len() > 1 {
            return Err(Error::bad_request(format!("expected one file `{name}`, got {}", files.len())));
        }
        Ok(files.pop())
    }

    fn describe(op: &mut Operation<'_>, name: &str) {
        op.file(name, false, false);
    }

    fn send(self, call: &mut Call<'_>, name: &'static str) {
        call.takes_files();
        self.into_iter().for_each(|f| call.file(name, f));
    }
}

impl FromRequest for Vec<UploadFile> {
    type Slot = Files;

    fn from_request(req: &mut Request, name: &str) -> Result<Self, Error> {
        let files = req.take_files(name);
        match req.sent_as_text(name) {
            Some(e) if files.is_empty() => Err(e),
            _ => Ok(files),
        }
    }

    fn describe(op: &mut Operation<'_>, name: &str) {
        op.file(name, false, true);
    }

    fn send(self, call: &mut Call<'_>, name: &'static str) {
        call.takes_files();
        self.into_iter().for_each(|f| call.file(name, f));
    }
}

/// Binds a [`FromRequest`] parameter.
#[doc(hidden)]
pub struct Extract<T> {
    name: &'static str,
    value: PhantomData<fn() -> T>,
}

impl<T> Extract<T> {
    pub(crate) const fn new(name: &'static str) -> Self {
        Self { name, value: PhantomData }
    }
}

impl<T: FromRequest> Binder for Extract<T> {
    type Value = T;
    type Slot = T::Slot;

    fn name(&self) -> &'static str {
        self.name
    }

    fn bind(&self, req: &mut Request) -> Result<T, Error> {
        T::from_request(req, self.name)
    }

    fn describe(&self, op: &mut Operation<'_>) {
        T::describe(op, self.name);
    }

    fn send(&self, value: T, call: &mut Call<'_>) {
        value.send(call, self.name);
    }
}
