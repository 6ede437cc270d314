//! `sippet.Limits` on the native side.
//!
//! The Python dataclass keeps a `NativeLimits` built once in its `__post_init__`
//! (`_native_limits`), so a parse reads one attribute instead of five. Any other object
//! with the five attributes works too, read the slow way.

use pyo3::intern;
use pyo3::prelude::*;

use crate::core::limits::Limits;

/// The five numbers, in `sippet.Limits` field order.
type Numbers = (usize, usize, usize, usize, usize);

/// The native copy of a `sippet.Limits`.
#[pyclass(frozen, module = "sippet._native", name = "NativeLimits")]
pub struct NativeLimits {
    pub limits: Limits,
}

#[pymethods]
impl NativeLimits {
    #[new]
    fn new(
        max_message_size: usize,
        max_header_count: usize,
        max_line_length: usize,
        max_via_count: usize,
        max_stream_buffer: usize,
    ) -> Self {
        NativeLimits {
            limits: Limits {
                max_message_size,
                max_header_count,
                max_line_length,
                max_via_count,
                max_stream_buffer,
            },
        }
    }

    /// Pickles as its five numbers (a pickled `Limits` carries its native copy).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Numbers)> {
        let l = slf.get().limits;
        Ok((
            slf.get_type().into_any(),
            (
                l.max_message_size,
                l.max_header_count,
                l.max_line_length,
                l.max_via_count,
                l.max_stream_buffer,
            ),
        ))
    }
}

/// The `core::Limits` of a `sippet.Limits` (or look-alike).
pub fn extract(limits: &Bound<'_, PyAny>) -> PyResult<Limits> {
    let py = limits.py();
    if let Ok(cached) = limits.getattr(intern!(py, "_native_limits")) {
        if let Ok(native) = cached.cast::<NativeLimits>() {
            return Ok(native.get().limits);
        }
    }
    if let Ok(native) = limits.cast::<NativeLimits>() {
        return Ok(native.get().limits);
    }
    Ok(Limits {
        max_message_size: limits.getattr(intern!(py, "max_message_size"))?.extract()?,
        max_header_count: limits.getattr(intern!(py, "max_header_count"))?.extract()?,
        max_line_length: limits.getattr(intern!(py, "max_line_length"))?.extract()?,
        max_via_count: limits.getattr(intern!(py, "max_via_count"))?.extract()?,
        max_stream_buffer: limits
            .getattr(intern!(py, "max_stream_buffer"))?
            .extract()?,
    })
}
