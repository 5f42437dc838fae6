//! A parameter with `#[validate(...)]` rules: its binder, plus the check and the document
//! entry the macro writes from the rules.

use super::Binder;
use crate::client::Call;
use crate::error::Error;
use crate::openapi::Operation;
use crate::request::Request;
use crate::validate::Report;

/// A binder whose values are also checked by `check` and whose document entry `describe`
/// completes with the rules.
#[doc(hidden)]
pub struct Checked<B, C, D> {
    binder: B,
    check: C,
    describe: D,
}

/// `binder` checked by `check` and described further by `describe` (closures the macro writes;
/// their argument types come from here).
#[doc(hidden)]
pub fn checked<B, C, D>(binder: B, check: C, describe: D) -> Checked<B, C, D>
where
    B: Binder,
    C: Fn(&B::Value, &mut Report) + Send + Sync + 'static,
    D: Fn(&mut Operation<'_>) + Send + Sync + 'static,
{
    Checked { binder, check, describe }
}

impl<B, C, D> Binder for Checked<B, C, D>
where
    B: Binder,
    C: Fn(&B::Value, &mut Report) + Send + Sync + 'static,
    D: Fn(&mut Operation<'_>) + Send + Sync + 'static,
{
    type Value = B::Value;
    type Slot = B::Slot;
    const CHECKED: bool = true;

    fn name(&self) -> &'static str {
        self.binder.name()
    }

    fn bind(&self, req: &mut Request) -> Result<B::Value, Error> {
        self.binder.bind(req)
    }

    fn check(&self, value: &B::Value, report: &mut Report) {
        self.binder.check(value, report);
        (self.check)(value, report);
    }

    fn describe(&self, op: &mut Operation<'_>) {
        self.binder.describe(op);
        (self.describe)(op);
    }

    fn send(&self, value: B::Value, call: &mut Call<'_>) {
        self.binder.send(value, call);
    }
}
