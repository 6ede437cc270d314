//! The `sippet._native` extension module. (Being written.)

use pyo3::prelude::*;
use pyo3::types::PyDict;

#[pyfunction]
fn register_types(_types: &Bound<'_, PyDict>) -> PyResult<()> {
    Ok(())
}

#[pyfunction]
fn parse_message(_data: &Bound<'_, PyAny>, _limits: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    Err(pyo3::exceptions::PyRuntimeError::new_err("native parser not built yet"))
}

#[pyfunction]
fn parse_uri(_text: &str) -> PyResult<Py<PyAny>> {
    Err(pyo3::exceptions::PyRuntimeError::new_err("native parser not built yet"))
}

#[pyfunction]
fn serialize_message(_msg: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    Err(pyo3::exceptions::PyRuntimeError::new_err("native serializer not built yet"))
}

#[pyfunction]
fn serialize_uri(_uri: &Bound<'_, PyAny>) -> PyResult<String> {
    Err(pyo3::exceptions::PyRuntimeError::new_err("native serializer not built yet"))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(register_types, m)?)?;
    m.add_function(wrap_pyfunction!(parse_message, m)?)?;
    m.add_function(wrap_pyfunction!(parse_uri, m)?)?;
    m.add_function(wrap_pyfunction!(serialize_message, m)?)?;
    m.add_function(wrap_pyfunction!(serialize_uri, m)?)?;
    Ok(())
}
