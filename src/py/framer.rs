//! `StreamFramer`: `core::framer::Framer` for Python stream transports (TCP, TLS).

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::core::framer::{Frame, Framer};
use crate::py::convert::Builder;
use crate::py::{bytes_arg, guard, limits, types};

/// Cuts a byte stream into whole SIP messages (RFC 3261 §18.3: Content-Length delimits
/// the body on streams) and RFC 5626 §3.5.1 keep-alives.
#[pyclass(module = "sippet._native")]
pub struct StreamFramer {
    inner: Framer,
}

#[pymethods]
impl StreamFramer {
    /// `eager_pong`: report a lone CRLF as a pong as soon as it arrives. For a client,
    /// which only receives pongs; a server waits, since it may be half of a ping.
    #[new]
    #[pyo3(signature = (limits, *, eager_pong = false))]
    fn new(limits: &Bound<'_, PyAny>, eager_pong: bool) -> PyResult<Self> {
        let mut inner = Framer::new(limits::extract(limits)?);
        inner.eager_pong = eager_pong;
        Ok(StreamFramer { inner })
    }

    /// Bytes held while waiting for the rest of a message.
    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }

    /// The `sippet.ParseError` that ended the stream, or `None`. Set as soon as a `feed`
    /// fails, even one that still returned the frames it completed before the error.
    #[getter]
    fn error<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(failure) = self.inner.failure() else {
            return Ok(None);
        };
        let types = types::get(py)?;
        Ok(Some(
            Builder::new(py, types)
                .parse_error(failure)
                .into_value(py)
                .into_bound(py)
                .into_any(),
        ))
    }

    /// Feed received bytes; returns the frames completed so far: `b"\r\n\r\n"` for a
    /// keep-alive ping, `b"\r\n"` for a pong, else one whole message. Raises
    /// `sippet.ParseError` when the stream cannot be framed (the connection should close).
    /// Frames completed before an error in the same call are returned, not lost: the
    /// error is then in `error` at once and raised by the next `feed`.
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let types = types::get(py)?;
        let data = bytes_arg(data)?;
        let inner = &mut self.inner;
        let frames = guard(|| inner.feed(data.as_bytes()))
            .map_err(|f| Builder::new(py, types).parse_error(&f))?;
        let out = PyList::empty(py);
        for frame in frames {
            match frame {
                Frame::Message(bytes) => out.append(PyBytes::new(py, &bytes))?,
                Frame::Ping => out.append(PyBytes::new(py, b"\r\n\r\n"))?,
                Frame::Pong => out.append(PyBytes::new(py, b"\r\n"))?,
            }
        }
        Ok(out)
    }
}
