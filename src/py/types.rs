//! The Python classes the binding builds and reads, handed over once by
//! `sippet._registry` at import (`register_types`).
//!
//! Passing the classes in keeps the native layer free of imports from the Python layers
//! above it. Everything is resolved once here (including per-header facts: canonical
//! name, shape, canonical position), so the hot paths only index into plain Rust values.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::core::headers::{Kind, Spec, SPECS};

/// FNV-1a: header keys and method names are short, and the default SipHash costs more
/// than the lookup itself. The keys are our own, so hash flooding is not a concern.
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

pub type FastMap<V> = HashMap<String, V, BuildHasherDefault<Fnv>>;

/// Object address -> header index, open addressing over a power-of-two table: the key
/// set is fixed at registration, so a probe is a multiply, a shift and a compare or two.
pub struct PtrTable {
    slots: Vec<(usize, usize)>,
    shift: u32,
}

impl PtrTable {
    fn new(entries: &[(usize, usize)]) -> Self {
        let bits = (entries.len() * 4)
            .next_power_of_two()
            .trailing_zeros()
            .max(4);
        let mut table = PtrTable {
            slots: vec![(0, 0); 1 << bits],
            shift: 64 - bits,
        };
        for &(ptr, index) in entries {
            let mut i = table.slot(ptr);
            while table.slots[i].0 != 0 {
                i = (i + 1) & (table.slots.len() - 1);
            }
            table.slots[i] = (ptr, index);
        }
        table
    }

    fn slot(&self, ptr: usize) -> usize {
        // Fibonacci hashing of the address (its low bits are alignment zeros).
        ((ptr as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    pub fn get(&self, ptr: usize) -> Option<usize> {
        let mut i = self.slot(ptr);
        loop {
            let (key, index) = self.slots[i];
            if key == ptr {
                return Some(index);
            }
            if key == 0 {
                return None;
            }
            i = (i + 1) & (self.slots.len() - 1);
        }
    }
}

/// How a typed header's value is shaped in Python (`python/sippet/headers.py`,
/// `HEADER_SHAPES`), which decides how the serializer reads and writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Free text (Subject, Server...).
    Text,
    /// Call-ID: `word ["@" word]`.
    CallId,
    /// A single token (Priority).
    Token,
    /// A number up to its bound (Max-Forwards 255, Expires 2**32-1...).
    Int(u64),
    ContentLength,
    Tokens,
    /// In-Reply-To: a list of Call-IDs.
    CallIds,
    /// Privacy: values separated by ";" (RFC 3323 §4.2), not ",".
    Privacy,
    Methods,
    TokenParams,
    /// Replaces: a Call-ID with params (RFC 3891 §6.1).
    CallIdParams,
    TokenParamsList,
    MediaType,
    MediaTypeList,
    UriParamsList,
    /// WWW-Authenticate, Proxy-Authenticate.
    Challenges,
    /// Authorization, Proxy-Authorization.
    Credentials,
    AuthInfo,
    Contact,
    NameAddr,
    NameAddrList,
    CSeq,
    Date,
    MimeVersion,
    RetryAfter,
    Timestamp,
    Via,
    Warning,
    DeltaParams,
    RAck,
}

/// The spec of a typed header in the core's table (`core::headers::SPECS`), the one list
/// of typed headers: the parser reads it to type values, the serializer to write them.
fn spec_of(key: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|spec| spec.key == key)
}

/// How the serializer writes a header of this spec. The core's parsing kind decides it,
/// except where writing needs more than parsing: Allow holds `Method` members, and
/// challenges and credentials are written differently (RFC 3261 §25.1).
fn shape_of(spec: &Spec) -> Shape {
    use Shape::*;
    match spec.kind {
        Kind::Text => Text,
        Kind::CallId => CallId,
        Kind::Priority => Token,
        Kind::Int(max) => Int(max),
        Kind::ContentLength => ContentLength,
        Kind::Tokens if spec.key == "allow" => Methods,
        Kind::Tokens | Kind::Tokens1 => Tokens,
        Kind::CallIdList => CallIds,
        Kind::Privacy => Privacy,
        Kind::TokenParams => TokenParams,
        Kind::CallIdParams => CallIdParams,
        Kind::TokenParamsList | Kind::TokenParamsList1 => TokenParamsList,
        Kind::MediaType => MediaType,
        Kind::MediaTypeList => MediaTypeList,
        Kind::UriParamsList => UriParamsList,
        Kind::Auth if spec.key.ends_with("_authenticate") => Challenges,
        Kind::Auth => Credentials,
        Kind::AuthInfo => AuthInfo,
        Kind::Contact => Contact,
        Kind::NameAddr => NameAddr,
        Kind::NameAddrList => NameAddrList,
        Kind::CSeq => CSeq,
        Kind::Date => Date,
        Kind::MimeVersion => MimeVersion,
        Kind::RetryAfter => RetryAfter,
        Kind::Timestamp => Timestamp,
        Kind::Via => Via,
        Kind::Warning => Warning,
        Kind::DeltaParams => DeltaParams,
        Kind::RAck => RAck,
    }
}

/// Lists the grammar allows empty (`Allow:` with no methods means none, RFC 3261 §20.5)
/// are written even when empty; other empty lists are left out.
fn may_be_empty(spec: &Spec) -> bool {
    matches!(
        spec.kind,
        Kind::Tokens | Kind::TokenParamsList | Kind::MediaTypeList
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    First(usize),
    Middle,
    Last(usize),
}

pub struct HeaderInfo {
    /// The snake_case key, interned once so parsed dicts share one string object.
    pub key: Py<PyString>,
    /// Canonical wire name ("Call-ID", "WWW-Authenticate"...).
    pub name: String,
    /// `name` followed by ": ", what starts each of its lines.
    pub line_start: String,
    /// `None` for a registered name without a typed shape (kept as raw lines).
    pub shape: Option<Shape>,
    pub rank: Rank,
    /// The grammar allows an empty value (RFC 3261 §20.1 Accept, §20.2 Accept-Encoding,
    /// §20.3 Accept-Language, §20.5 Allow, §20.37 Supported): an empty list is written
    /// as an empty header instead of being left out.
    pub empty_ok: bool,
}

pub struct Types {
    pub message: Py<PyAny>,
    pub request_line: Py<PyAny>,
    pub status_line: Py<PyAny>,
    pub uri: Py<PyAny>,
    pub name_addr: Py<PyAny>,
    pub sent_by: Py<PyAny>,
    pub via: Py<PyAny>,
    pub cseq: Py<PyAny>,
    pub media_type: Py<PyAny>,
    pub token_params: Py<PyAny>,
    pub uri_params: Py<PyAny>,
    pub auth: Py<PyAny>,
    pub mime_version: Py<PyAny>,
    pub retry_after: Py<PyAny>,
    pub timestamp: Py<PyAny>,
    pub warning: Py<PyAny>,
    pub delta_params: Py<PyAny>,
    pub rack: Py<PyAny>,
    pub parse_error: Py<PyAny>,
    /// `sippet.headers.Unparsed`: a header field echoed as the raw text it came with. Optional
    /// so that a registry without it still works (nothing is then written raw).
    pub unparsed: Option<Py<PyAny>>,
    pub datetime: Py<PyAny>,
    pub utc: Py<PyAny>,
    /// `tuple.__new__`: builds a tuple subclass (named tuple, `URI`) from one tuple
    /// without running the subclass's Python-level `__new__`.
    pub tuple_new: Py<PyAny>,
    /// `object.__new__`, for `Message` (its slots are then set directly).
    pub object_new: Py<PyAny>,
    pub methods: FastMap<Py<PyAny>>,
    pub headers: Vec<HeaderInfo>,
    /// snake_case key -> index into `headers`.
    pub header_index: FastMap<usize>,
    /// Address of the interned key string -> index into `headers`. Parsed messages use
    /// these very strings, and CPython interns identifier-like literals (`"via"`), so
    /// most keys are found without hashing their text.
    pub header_by_ptr: PtrTable,
    /// The version tuple `(2, 0)`, shared by every parsed message.
    pub version_2_0: Py<PyTuple>,
}

static TYPES: PyOnceLock<Types> = PyOnceLock::new();

/// The registered types; an error if `sippet` was not imported (it registers them).
pub fn get(py: Python<'_>) -> PyResult<&Types> {
    TYPES.get(py).ok_or_else(|| {
        PyRuntimeError::new_err(
            "sippet._native: register_types() has not been called (import sippet)",
        )
    })
}

fn item<'py>(types: &Bound<'py, PyDict>, key: &str) -> PyResult<Bound<'py, PyAny>> {
    types
        .get_item(key)?
        .ok_or_else(|| PyTypeError::new_err(format!("register_types: missing key {key:?}")))
}

fn class(types: &Bound<'_, PyDict>, key: &str) -> PyResult<Py<PyAny>> {
    Ok(item(types, key)?.unbind())
}

fn build(py: Python<'_>, types: &Bound<'_, PyDict>) -> PyResult<Types> {
    let builtins = py.import("builtins")?;
    let tuple_new = builtins.getattr("tuple")?.getattr("__new__")?.unbind();
    let object_new = builtins.getattr("object")?.getattr("__new__")?.unbind();

    let mut methods = FastMap::default();
    for (name, member) in item(types, "methods")?.cast_into::<PyDict>()?.iter() {
        methods.insert(name.extract::<String>()?, member.unbind());
    }

    // The Python layer documents the typed headers (`HEADER_SHAPES`); the core types
    // them (`SPECS`). Refuse to start if the two lists ever drift apart.
    let typed: Vec<String> = item(types, "typed_keys")?.extract()?;
    let python_only: Vec<&String> = typed.iter().filter(|k| spec_of(k).is_none()).collect();
    let core_only: Vec<&str> = SPECS
        .iter()
        .map(|spec| spec.key)
        .filter(|k| !typed.iter().any(|t| t == k))
        .collect();
    if !python_only.is_empty() || !core_only.is_empty() {
        return Err(PyRuntimeError::new_err(format!(
            "typed headers differ: only in sippet.headers {python_only:?}, \
             only in the native core {core_only:?}"
        )));
    }

    let order: Vec<String> = item(types, "canonical_order")?.extract()?;
    let order_last: Vec<String> = item(types, "canonical_order_last")?.extract()?;
    let mut headers = Vec::new();
    let mut header_index = FastMap::default();
    let mut by_ptr = Vec::new();
    for (key, name) in item(types, "canonical_names")?
        .cast_into::<PyDict>()?
        .iter()
    {
        let key_text: String = key.extract()?;
        let rank = if let Some(i) = order.iter().position(|k| *k == key_text) {
            Rank::First(i)
        } else if let Some(i) = order_last.iter().position(|k| *k == key_text) {
            Rank::Last(i)
        } else {
            Rank::Middle
        };
        let interned = PyString::intern(py, &key_text);
        by_ptr.push((interned.as_ptr() as usize, headers.len()));
        header_index.insert(key_text.clone(), headers.len());
        let name: String = name.extract()?;
        let spec = spec_of(&key_text);
        headers.push(HeaderInfo {
            key: interned.unbind(),
            line_start: format!("{name}: "),
            name,
            shape: spec.map(shape_of),
            rank,
            empty_ok: spec.is_some_and(may_be_empty),
        });
    }

    Ok(Types {
        message: class(types, "Message")?,
        request_line: class(types, "RequestLine")?,
        status_line: class(types, "StatusLine")?,
        uri: class(types, "URI")?,
        name_addr: class(types, "NameAddr")?,
        sent_by: class(types, "SentBy")?,
        via: class(types, "Via")?,
        cseq: class(types, "CSeq")?,
        media_type: class(types, "MediaType")?,
        token_params: class(types, "TokenParams")?,
        uri_params: class(types, "UriParams")?,
        auth: class(types, "Auth")?,
        mime_version: class(types, "MimeVersion")?,
        retry_after: class(types, "RetryAfter")?,
        timestamp: class(types, "Timestamp")?,
        warning: class(types, "Warning")?,
        delta_params: class(types, "DeltaParams")?,
        rack: class(types, "RAck")?,
        parse_error: class(types, "ParseError")?,
        unparsed: types.get_item("Unparsed")?.map(Bound::unbind),
        datetime: class(types, "datetime")?,
        utc: class(types, "utc")?,
        tuple_new,
        object_new,
        methods,
        headers,
        header_index,
        header_by_ptr: PtrTable::new(&by_ptr),
        version_2_0: PyTuple::new(py, [2u32, 0])?.unbind(),
    })
}

/// `register_types(types)`: store the classes. The first registration wins; a later call
/// (a re-imported `sippet._registry`) is checked for the same `Message` class so that a
/// mismatch is loud instead of silently building the old classes.
#[pyfunction]
pub fn register_types(py: Python<'_>, types: &Bound<'_, PyDict>) -> PyResult<()> {
    if let Some(existing) = TYPES.get(py) {
        if existing.message.bind(py).is(&item(types, "Message")?) {
            return Ok(());
        }
        return Err(PyRuntimeError::new_err(
            "sippet._native: register_types() was already called with other classes",
        ));
    }
    let built = build(py, types)?;
    // Another thread may have won the race; either value is equally valid.
    let _ = TYPES.set(py, built);
    Ok(())
}
