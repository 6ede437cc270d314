//! `core::model` values to sippet's Python types (shapes: `python/sippet/headers.py`).
//!
//! Named tuples and `URI` are built with `tuple.__new__(cls, fields)`: one call, no
//! Python-level `__new__`. Header keys of typed headers are interned strings shared by
//! every parsed message, methods are the registered `Method` members, and the common
//! `(2, 0)` version is one shared tuple.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::core::error::ParseFailure;
use crate::core::model::{
    Date, HeaderKey, HeaderValue, Message, NameAddr, Params, StartLine, Uri, Via,
};
use crate::py::types::Types;

pub struct Builder<'py, 't> {
    py: Python<'py>,
    types: &'t Types,
}

impl<'py, 't> Builder<'py, 't> {
    pub fn new(py: Python<'py>, types: &'t Types) -> Self {
        Builder { py, types }
    }

    /// An instance of the tuple subclass `cls` holding `fields`.
    fn record(&self, cls: &Py<PyAny>, fields: Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        self.types
            .tuple_new
            .bind(self.py)
            .call1((cls.bind(self.py), fields))
    }

    /// A Python str; the words most messages repeat (schemes, transports, parameter names,
    /// option tags...) are shared interned strings, which saves an allocation and, as dict
    /// keys, the hashing.
    fn str(&self, text: &str) -> Bound<'py, PyString> {
        let py = self.py;
        macro_rules! common {
            ($($word:literal)*) => {
                match text {
                    $($word => intern!(py, $word).clone(),)*
                    _ => PyString::new(py, text),
                }
            };
        }
        common!(
            "sip" "sips" "tel" "tag" "branch" "rport" "received" "transport" "lr" "maddr" "ttl"
            "user" "method" "phone" "udp" "tcp" "tls" "ws" "wss" "UDP" "TCP" "TLS" "WS" "WSS"
            "expires" "q" "ob" "gr" "+sip.instance" "reg-id" "application" "sdp" "text" "plain"
            "refresher" "uac" "uas" "replaces" "timer" "100rel" "path" "gruu" "outbound"
            "norefersub" "Digest" "realm" "nonce" "algorithm" "MD5" "qop" "auth" "opaque"
            "username" "uri" "response" "cnonce" "nc" "stale" "handling" "required" "optional"
            "session" "render" "duration" "cause" "text/plain" "SIP" "Q.850"
        )
    }

    fn opt_str(&self, text: Option<&str>) -> Option<Bound<'py, PyString>> {
        text.map(|t| self.str(t))
    }

    fn params(&self, params: &Params) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(self.py);
        for (name, value) in params {
            dict.set_item(self.str(name), self.opt_str(value.as_deref()))?;
        }
        Ok(dict)
    }

    /// A known method is its `Method` member, any other the text (RFC 3261 §7.1: methods
    /// are case-sensitive, so only an exact match is known).
    fn method(&self, text: &str) -> Bound<'py, PyAny> {
        match self.types.methods.get(text) {
            Some(member) => member.bind(self.py).clone(),
            None => PyString::new(self.py, text).into_any(),
        }
    }

    fn version(&self, (major, minor): (u32, u32)) -> PyResult<Bound<'py, PyAny>> {
        if (major, minor) == (2, 0) {
            Ok(self.types.version_2_0.bind(self.py).clone().into_any())
        } else {
            Ok((major, minor).into_pyobject(self.py)?.into_any())
        }
    }

    pub fn uri(&self, uri: &Uri) -> PyResult<Bound<'py, PyAny>> {
        let headers = PyDict::new(self.py);
        for (name, value) in &uri.headers {
            headers.set_item(name.as_str(), value.as_str())?;
        }
        let fields = (
            self.str(&uri.scheme),
            uri.user.as_deref(),
            uri.password.as_deref(),
            uri.host.as_deref(),
            uri.port,
            self.params(&uri.params)?,
            headers,
            uri.opaque.as_deref(),
        )
            .into_pyobject(self.py)?;
        self.record(&self.types.uri, fields)
    }

    fn name_addr(&self, value: &NameAddr) -> PyResult<Bound<'py, PyAny>> {
        let fields = (
            value.display_name.as_str(),
            self.uri(&value.uri)?,
            self.params(&value.params)?,
        )
            .into_pyobject(self.py)?;
        self.record(&self.types.name_addr, fields)
    }

    fn via(&self, via: &Via) -> PyResult<Bound<'py, PyAny>> {
        let sent_by = self.record(
            &self.types.sent_by,
            (via.host.as_str(), via.port).into_pyobject(self.py)?,
        )?;
        let fields = (
            self.version(via.version)?,
            via.transport.as_str(),
            sent_by,
            self.params(&via.params)?,
        )
            .into_pyobject(self.py)?;
        self.record(&self.types.via, fields)
    }

    fn token_params(&self, token: &str, params: &Params) -> PyResult<Bound<'py, PyAny>> {
        self.record(
            &self.types.token_params,
            (token, self.params(params)?).into_pyobject(self.py)?,
        )
    }

    fn media_type(&self, kind: &str, sub: &str, params: &Params) -> PyResult<Bound<'py, PyAny>> {
        let fields =
            ((self.str(kind), self.str(sub)), self.params(params)?).into_pyobject(self.py)?;
        self.record(&self.types.media_type, fields)
    }

    fn list<T>(
        &self,
        items: &[T],
        mut each: impl FnMut(&T) -> PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let values = items.iter().map(&mut each).collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(self.py, values)?.into_any())
    }

    fn date(&self, d: &Date) -> PyResult<Bound<'py, PyAny>> {
        let built = self.types.datetime.bind(self.py).call1((
            d.year,
            d.month,
            d.day,
            d.hour,
            d.minute,
            d.second,
            0u32,
            self.types.utc.bind(self.py),
        ));
        // A date the grammar allows but `datetime` cannot hold (year 0) is still a bad
        // Date header, reported like the others.
        built.map_err(|err| {
            let mut failure = ParseFailure::new(
                "invalid_date",
                400,
                format!("Date out of range: {}", err.value(self.py)),
            );
            failure.header = Some("date".to_owned());
            self.parse_error(&failure)
        })
    }

    fn key(&self, key: &HeaderKey) -> Bound<'py, PyString> {
        match key {
            HeaderKey::Known(name) => match self.types.header_index.get(*name) {
                Some(&i) => self.types.headers[i].key.bind(self.py).clone(),
                None => PyString::new(self.py, name),
            },
            HeaderKey::Raw(name) => PyString::new(self.py, name),
        }
    }

    fn value(&self, key: &HeaderKey, value: &HeaderValue) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        Ok(match value {
            HeaderValue::Text(text) => PyString::new(py, text).into_any(),
            HeaderValue::Int(n) => n.into_pyobject(py)?.into_any(),
            HeaderValue::Tokens(tokens) => {
                if *key == HeaderKey::Known("allow") {
                    self.list(tokens, |m| Ok(self.method(m)))?
                } else {
                    self.list(tokens, |t| Ok(self.str(t).into_any()))?
                }
            }
            HeaderValue::TokenParams(value) => {
                let (token, params) = &**value;
                self.token_params(token, params)?
            }
            HeaderValue::TokenParamsList(items) => {
                self.list(items, |(t, p)| self.token_params(t, p))?
            }
            HeaderValue::MediaType(value) => {
                let (kind, sub, params) = &**value;
                self.media_type(kind, sub, params)?
            }
            HeaderValue::MediaTypeList(items) => {
                self.list(items, |(k, s, p)| self.media_type(k, s, p))?
            }
            HeaderValue::UriParamsList(items) => self.list(items, |(uri, params)| {
                let fields = (self.uri(uri)?, self.params(params)?).into_pyobject(py)?;
                self.record(&self.types.uri_params, fields)
            })?,
            HeaderValue::Auth(items) => self.list(items, |(scheme, params)| {
                let fields = (self.str(scheme), self.params(params)?).into_pyobject(py)?;
                self.record(&self.types.auth, fields)
            })?,
            HeaderValue::Params(params) => self.params(params)?.into_any(),
            HeaderValue::Star => intern!(py, "*").clone().into_any(),
            HeaderValue::NameAddr(value) => self.name_addr(value)?,
            HeaderValue::NameAddrList(items) => self.list(items, |v| self.name_addr(v))?,
            HeaderValue::CSeq(seq, method) => self.record(
                &self.types.cseq,
                (*seq, self.method(method)).into_pyobject(py)?,
            )?,
            HeaderValue::Date(date) => self.date(date)?,
            HeaderValue::MimeVersion(major, minor) => self.record(
                &self.types.mime_version,
                (*major, *minor).into_pyobject(py)?,
            )?,
            HeaderValue::RetryAfter(value) => {
                let (seconds, comment, params) = &**value;
                let fields =
                    (*seconds, comment.as_deref(), self.params(params)?).into_pyobject(py)?;
                self.record(&self.types.retry_after, fields)?
            }
            HeaderValue::Timestamp(value, delay) => {
                self.record(&self.types.timestamp, (*value, *delay).into_pyobject(py)?)?
            }
            HeaderValue::Via(items) => self.list(items, |v| self.via(v))?,
            HeaderValue::Warning(items) => self.list(items, |(code, agent, text)| {
                let fields = (*code, agent.as_str(), text.as_str()).into_pyobject(py)?;
                self.record(&self.types.warning, fields)
            })?,
            HeaderValue::DeltaParams(seconds, params) => {
                let fields = (*seconds, self.params(params)?).into_pyobject(py)?;
                self.record(&self.types.delta_params, fields)?
            }
            HeaderValue::RAck(value) => {
                let (rseq, cseq, method) = &**value;
                let fields = (*rseq, *cseq, self.method(method)).into_pyobject(py)?;
                self.record(&self.types.rack, fields)?
            }
            HeaderValue::Raw(lines) => self.list(lines, |l| Ok(PyString::new(py, l).into_any()))?,
        })
    }

    pub fn headers(&self, headers: &[(HeaderKey, HeaderValue)]) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(self.py);
        for (key, value) in headers {
            dict.set_item(self.key(key), self.value(key, value)?)?;
        }
        Ok(dict)
    }

    fn start_line(&self, line: &StartLine) -> PyResult<Bound<'py, PyAny>> {
        match line {
            StartLine::Request {
                method,
                uri,
                version,
            } => {
                let fields = (self.method(method), self.uri(uri)?, self.version(*version)?)
                    .into_pyobject(self.py)?;
                self.record(&self.types.request_line, fields)
            }
            StartLine::Status {
                version,
                code,
                reason,
            } => {
                let fields =
                    (*code, reason.as_str(), self.version(*version)?).into_pyobject(self.py)?;
                self.record(&self.types.status_line, fields)
            }
        }
    }

    /// A `Message` with its slots set directly (no `__init__`): `wire_order` true, since
    /// a parsed message re-serializes in the order it arrived; no `target`.
    pub fn message(&self, message: &Message) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let msg = self
            .types
            .object_new
            .bind(py)
            .call1((self.types.message.bind(py),))?;
        msg.setattr(
            intern!(py, "start_line"),
            self.start_line(&message.start_line)?,
        )?;
        msg.setattr(intern!(py, "headers"), self.headers(&message.headers)?)?;
        msg.setattr(intern!(py, "body"), PyBytes::new(py, &message.body))?;
        msg.setattr(intern!(py, "target"), py.None())?;
        msg.setattr(intern!(py, "wire_order"), true)?;
        Ok(msg)
    }

    /// `sippet.ParseError` carrying the failure's reason, status hint, header and the
    /// reply headers that did parse (RFC 3261 §8.2.6: enough to answer statelessly) and the
    /// raw text of those that did not (`reply_raw`).
    pub fn parse_error(&self, failure: &ParseFailure) -> PyErr {
        match self.build_parse_error(failure) {
            Ok(exc) => PyErr::from_value(exc),
            Err(err) => err,
        }
    }

    fn build_parse_error(&self, failure: &ParseFailure) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "reason"), failure.reason)?;
        kwargs.set_item(intern!(py, "status_code"), failure.status_code)?;
        kwargs.set_item(intern!(py, "header"), failure.header.as_deref())?;
        if failure.reply_headers.is_empty() {
            kwargs.set_item(intern!(py, "reply_headers"), py.None())?;
        } else {
            kwargs.set_item(
                intern!(py, "reply_headers"),
                self.headers(&failure.reply_headers)?,
            )?;
        }
        // Only set when there is something: a `ParseError` class without the keyword
        // (an older `sippet.errors`) still gets built for every other failure.
        if !failure.reply_raw.is_empty() {
            let raw = PyDict::new(py);
            for (key, text) in &failure.reply_raw {
                raw.set_item(PyString::intern(py, key), text.as_str())?;
            }
            kwargs.set_item(intern!(py, "reply_raw"), raw)?;
        }
        self.types
            .parse_error
            .bind(py)
            .call((failure.message.as_str(),), Some(&kwargs))
    }
}
