//! The `sippet._native` extension module: the PyO3 face of `core`.
//!
//! - `convert`: `core::model` values to sippet's Python types.
//! - `serialize`: Python messages to wire text; `write_value` and `write_uri` write the
//!   header values and URIs it is made of (`read` and `grammar` are their helpers).
//! - `types`: the Python classes registered at import.
//! - `limits`, `framer`: `Limits` and the stream framer.
//!
//! No panic reaches Python: every call into `core` runs under `guard`, which turns an
//! unwind into `ParseError(reason="internal_error", status_code=500)`.

mod convert;
mod framer;
mod grammar;
mod limits;
mod read;
mod serialize;
mod types;
mod write_uri;
mod write_value;

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

use crate::core;
use crate::core::error::ParseFailure;
use convert::Builder;

/// Run a `core` call; a panic becomes an internal-error `ParseFailure`.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, ParseFailure>) -> Result<T, ParseFailure> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(ParseFailure::new(
            "internal_error",
            500,
            "internal error in the native parser",
        ))
    })
}

/// Input bytes: `bytes` as is; `bytearray` and `memoryview` (or any buffer) copied once.
pub(crate) fn bytes_arg<'py>(data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        return Ok(bytes.clone());
    }
    if let Ok(array) = data.cast::<PyByteArray>() {
        return Ok(PyBytes::new(data.py(), &array.to_vec()));
    }
    if data.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "expected bytes, got str (encode it first)",
        ));
    }
    // memoryview and other buffer objects: bytes(obj) copies the buffer.
    let converted = data
        .py()
        .get_type::<PyBytes>()
        .call1((data,))
        .map_err(|_| PyTypeError::new_err("expected bytes, bytearray or memoryview"))?;
    Ok(converted.cast_into::<PyBytes>()?)
}

#[pyfunction]
fn parse_message<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    limits: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let types = types::get(py)?;
    let limits = limits::extract(limits)?;
    let data = bytes_arg(data)?;
    let builder = Builder::new(py, types);
    match guard(|| core::parse::parse_message(data.as_bytes(), &limits)) {
        Ok(message) => builder.message(&message),
        Err(failure) => Err(builder.parse_error(&failure)),
    }
}

#[pyfunction]
fn parse_uri<'py>(py: Python<'py>, text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let types = types::get(py)?;
    let builder = Builder::new(py, types);
    let text = text
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err("expected str"))?;
    // A str holding a lone surrogate has no UTF-8 form: not a URI we can read.
    let Ok(text) = text.to_str() else {
        return Err(builder.parse_error(&ParseFailure::of(
            core::error::reasons::INVALID_UTF8,
            "URI text is not valid Unicode (lone surrogate)",
        )));
    };
    match guard(|| core::uri::parse_uri(text)) {
        Ok(uri) => builder.uri(&uri),
        Err(failure) => Err(builder.parse_error(&failure)),
    }
}

#[pyfunction]
fn serialize_message<'py>(
    py: Python<'py>,
    msg: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    serialize::serialize_message(py, msg)
}

#[pyfunction]
fn serialize_uri(uri: &Bound<'_, PyAny>) -> PyResult<String> {
    write_uri::uri_to_string(uri)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(types::register_types, m)?)?;
    m.add_function(wrap_pyfunction!(parse_message, m)?)?;
    m.add_function(wrap_pyfunction!(parse_uri, m)?)?;
    m.add_function(wrap_pyfunction!(serialize_message, m)?)?;
    m.add_function(wrap_pyfunction!(serialize_uri, m)?)?;
    m.add_class::<framer::StreamFramer>()?;
    m.add_class::<limits::NativeLimits>()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn guard_turns_a_panic_into_an_internal_error() {
        let failure = super::guard::<()>(|| panic!("deliberate")).unwrap_err();
        assert_eq!(failure.reason, "internal_error");
        assert_eq!(failure.status_code, 500);
        assert_eq!(super::guard(|| Ok(7)), Ok(7));
    }
}
