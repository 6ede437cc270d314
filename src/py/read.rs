//! Reading sippet's Python values from Rust, with errors that name what was wrong where.
//!
//! Header values are tuples (named or plain: both are read by index), lists, dicts, str
//! and int. A wrong shape is a `TypeError` ("header Via: expected ..., got int"), a value
//! that cannot be written (CR/LF in text, port out of range) a `ValueError`.
//!
//! The readers run several times per header when serializing, so the happy path is kept
//! tiny: they are inlined, and the errors are built out of line (`#[cold]`), which keeps
//! the formatting machinery out of every caller's prologue.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

#[cold]
#[inline(never)]
pub fn type_error(ctx: &str, expected: &str, got: &Bound<'_, PyAny>) -> PyErr {
    let got = got
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned());
    PyTypeError::new_err(format!("{ctx}: expected {expected}, got {got}"))
}

#[cold]
#[inline(never)]
pub fn value_error(ctx: &str, detail: &str) -> PyErr {
    PyValueError::new_err(format!("{ctx}: {detail}"))
}

#[inline]
pub fn str_of<'a>(v: &'a Bound<'_, PyAny>, ctx: &str, what: &str) -> PyResult<&'a str> {
    match v.cast::<PyString>() {
        Ok(s) => s.to_str(),
        Err(_) => Err(type_error(ctx, what, v)),
    }
}

/// A `str` or `None`.
#[inline]
pub fn opt_str_of<'a>(v: &'a Bound<'_, PyAny>, ctx: &str, what: &str) -> PyResult<Option<&'a str>> {
    if v.is_none() {
        Ok(None)
    } else {
        str_of(v, ctx, what).map(Some)
    }
}

/// A tuple (named tuple, `URI`, or plain) of exactly `n` fields.
#[inline]
pub fn tuple_of<'a, 'py>(
    v: &'a Bound<'py, PyAny>,
    n: usize,
    ctx: &str,
    what: &str,
) -> PyResult<&'a Bound<'py, PyTuple>> {
    match v.cast::<PyTuple>() {
        Ok(t) if t.len() == n => Ok(t),
        _ => Err(type_error(ctx, what, v)),
    }
}

#[inline]
pub fn list_of<'a, 'py>(
    v: &'a Bound<'py, PyAny>,
    ctx: &str,
    what: &str,
) -> PyResult<&'a Bound<'py, PyList>> {
    v.cast::<PyList>().map_err(|_| type_error(ctx, what, v))
}

#[inline]
pub fn dict_of<'a, 'py>(
    v: &'a Bound<'py, PyAny>,
    ctx: &str,
    what: &str,
) -> PyResult<&'a Bound<'py, PyDict>> {
    v.cast::<PyDict>().map_err(|_| type_error(ctx, what, v))
}

/// A non-negative int no larger than `max`.
#[inline]
pub fn uint_of(v: &Bound<'_, PyAny>, ctx: &str, what: &str, max: u64) -> PyResult<u64> {
    match v.extract::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(uint_error(v, ctx, what, max)),
    }
}

#[cold]
#[inline(never)]
fn uint_error(v: &Bound<'_, PyAny>, ctx: &str, what: &str, max: u64) -> PyErr {
    match v.extract::<u64>() {
        Ok(n) => value_error(ctx, &format!("{what} {n} is larger than {max}")),
        Err(_) if v.extract::<i64>().is_ok() => {
            value_error(ctx, &format!("{what} must not be negative"))
        }
        Err(_) => type_error(ctx, what, v),
    }
}
