//! OpenAPI 3.0 documents built from service traits, with schemas from the Rust types
//! (via `schemars`, in its OpenAPI 3.0 dialect).

use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use crate::vocab::{pieces, ErrorBody, Piece, Verb};

/// Collects operations and schemas into one OpenAPI 3.0.3 document.
pub struct ApiBuilder {
    gen: SchemaGenerator,
    prefix: String,
    title: String,
    version: String,
    paths: Map<String, Value>,
    tags: Vec<Value>,
}

impl std::fmt::Debug for ApiBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiBuilder").field("title", &self.title).finish_non_exhaustive()
    }
}

impl ApiBuilder {
    /// A document titled `title`, with every path under `prefix` (the route root path).
    pub fn new(title: impl Into<String>, version: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            gen: SchemaSettings::openapi3().into_generator(),
            prefix: prefix.into(),
            title: title.into(),
            version: version.into(),
            paths: Map::new(),
            tags: Vec::new(),
        }
    }

    /// Declares a tag (one per service trait) with its description.
    pub fn tag(&mut self, name: &str, description: &str) {
        let mut tag = json!({ "name": name });
        if !description.is_empty() {
            tag["description"] = json!(description);
        }
        self.tags.push(tag);
    }

    /// Starts an operation; its parameters and responses follow through the returned builder.
    pub fn operation(
        &mut self,
        verb: Verb,
        path: &str,
        operation_id: &str,
        doc: &str,
        tag: &str,
    ) -> Operation<'_> {
        let mut op = Map::new();
        op.insert("operationId".into(), json!(operation_id));
        op.insert("tags".into(), json!([tag]));
        let doc = doc.trim();
        if !doc.is_empty() {
            let (summary, description) = doc.split_once("\n\n").unwrap_or((doc, ""));
            op.insert("summary".into(), json!(summary.replace('\n', " ")));
            if !description.is_empty() {
                op.insert("description".into(), json!(description));
            }
        }
        Operation {
            builder: self,
            key: (document_path(path), verb.as_str().to_ascii_lowercase()),
            op,
            params: Vec::new(),
            scalars: Vec::new(),
            form: None,
        }
    }

    /// The finished document.
    pub fn finish(mut self) -> Value {
        let schemas: Map<String, Value> = self
            .gen
            .take_definitions()
            .into_iter()
            .map(|(k, v)| (k, serde_json::to_value(v).unwrap_or(Value::Null)))
            .collect();
        let paths: Map<String, Value> = self
            .paths
            .into_iter()
            .map(|(k, v)| {
                (format!("{}{}", self.prefix, if k == "/" && !self.prefix.is_empty() { "" } else { &k }), v)
            })
            .collect();
        let mut doc = json!({
            "openapi": "3.0.3",
            "info": { "title": self.title, "version": self.version },
            "tags": self.tags,
            "paths": paths,
            "components": { "schemas": schemas },
        });
        bound_integers(&mut doc);
        doc
    }

    fn schema<T: JsonSchema>(&mut self) -> Value {
        serde_json::to_value(self.gen.subschema_for::<T>()).unwrap_or(Value::Null)
    }
}

/// States the range of each Rust integer type, which schemars leaves to the `format`: a
/// client (or a fuzzer) reading the document then knows that `u8` stops at 255.
fn bound_integers(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let range: Option<(i128, i128)> = match map.get("format").and_then(Value::as_str) {
                Some("uint8") => Some((0, u8::MAX.into())),
                Some("uint16") => Some((0, u16::MAX.into())),
                Some("uint32") => Some((0, u32::MAX.into())),
                Some("uint64") | Some("uint") => Some((0, u64::MAX.into())),
                Some("int8") => Some((i8::MIN.into(), i8::MAX.into())),
                Some("int16") => Some((i16::MIN.into(), i16::MAX.into())),
                Some("int32") => Some((i32::MIN.into(), i32::MAX.into())),
                Some("int64") | Some("int") => Some((i64::MIN.into(), i64::MAX.into())),
                _ => None,
            };
            if let (Some((min, max)), Some("integer")) = (range, map.get("type").and_then(Value::as_str)) {
                map.entry("minimum").or_insert_with(|| number(min));
                map.entry("maximum").or_insert_with(|| number(max));
            }
            map.values_mut().for_each(bound_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

fn number(n: i128) -> Value {
    match (u64::try_from(n), i64::try_from(n)) {
        (Ok(u), _) => json!(u),
        (_, Ok(i)) => json!(i),
        _ => Value::Null,
    }
}

/// One operation under construction.
pub struct Operation<'a> {
    builder: &'a mut ApiBuilder,
    key: (String, String),
    op: Map<String, Value>,
    params: Vec<Value>,
    /// Scalars outside the path: query parameters, or fields of the multipart body when the
    /// operation uploads files (the runtime takes them from either).
    scalars: Vec<(String, Value, bool)>,
    form: Option<(Map<String, Value>, Vec<String>)>,
}

impl std::fmt::Debug for Operation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation").field("key", &self.key).finish_non_exhaustive()
    }
}

impl Operation<'_> {
    /// A scalar parameter with the schema of one value: in the path, or (any number of
    /// times when `multiple`) in the query or the form.
    pub(crate) fn scalar(&mut self, name: &str, in_path: bool, one: Value, required: bool, multiple: bool) {
        if in_path {
            self.params.push(json!({ "name": name, "in": "path", "required": true, "schema": one }));
            return;
        }
        let schema = if multiple { json!({ "type": "array", "items": one }) } else { one };
        self.scalars.push((name.to_owned(), schema, required));
    }

    /// A JSON request body.
    pub(crate) fn json_body<T: JsonSchema>(&mut self, required: bool) {
        let schema = self.builder.schema::<T>();
        self.op.insert(
            "requestBody".into(),
            json!({ "required": required, "content": { "application/json": { "schema": schema } } }),
        );
    }

    /// A file field of a multipart body; `multiple` for a `Vec` of files.
    pub(crate) fn file(&mut self, name: &str, required: bool, multiple: bool) {
        let (props, req) = self.form.get_or_insert_with(Default::default);
        let one = json!({ "type": "string", "format": "binary" });
        props.insert(name.into(), if multiple { json!({ "type": "array", "items": one }) } else { one });
        if required {
            req.push(name.into());
        }
    }

    /// 200 with a JSON body of `T`.
    pub(crate) fn json_response<T: JsonSchema>(&mut self) {
        let schema = self.builder.schema::<T>();
        self.respond(json!({ "200": { "description": "OK", "content": { "application/json": { "schema": schema } } } }));
    }

    /// 204 without a body.
    pub(crate) fn empty_response(&mut self) {
        self.respond(json!({ "204": { "description": "No Content" } }));
    }

    /// 200 with a file download.
    pub(crate) fn download_response(&mut self) {
        self.respond(json!({ "200": {
            "description": "The file, as an attachment",
            "headers": { "Content-Disposition": { "schema": { "type": "string" } } },
            "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } }
        } }));
    }

    /// The schema of `T` (a reference to it when it is a named type).
    #[doc(hidden)]
    pub fn schema<T: JsonSchema>(&mut self) -> Value {
        self.builder.schema::<T>()
    }

    /// States `rules` in the schema of the parameter `name` (after the parameter was added).
    #[doc(hidden)]
    pub fn constrain(&mut self, name: &str, rules: &[crate::validate::Rule<'_>]) {
        if let Some(param) = self.params.iter_mut().find(|p| p["name"] == name) {
            let mut required = true;
            rules.iter().for_each(|r| r.apply(&mut param["schema"], &mut required));
        } else if let Some((_, schema, required)) = self.scalars.iter_mut().find(|(n, ..)| n == name) {
            rules.iter().for_each(|r| r.apply(schema, required));
        }
    }

    /// A business error this operation answers with: a variant of a `#[doudou::error]` enum,
    /// answered with `status` and the body `{code, message, data}` whose `data` holds `fields`.
    /// Variants of one status are alternatives (`anyOf`) of that status's response.
    #[doc(hidden)]
    pub fn business_error(
        &mut self,
        status: u16,
        code: i64,
        variant: &str,
        doc: &str,
        fields: Vec<(&str, Value)>,
    ) {
        let mut properties = json!({
            "code": { "type": "integer", "enum": [code] },
            "message": { "type": "string" },
        });
        let mut required = vec!["code", "message"];
        if !fields.is_empty() {
            let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
            let data: Map<String, Value> = fields.into_iter().map(|(n, s)| (n.to_owned(), s)).collect();
            properties["data"] = json!({ "type": "object", "required": names, "properties": data });
            required.push("data");
        }
        let doc = doc.trim();
        let description = if doc.is_empty() { variant.to_owned() } else { format!("{variant}: {doc}") };
        let schema = json!({
            "type": "object",
            "description": description,
            "required": required,
            "properties": properties,
        });
        let responses = self.op.entry("responses").or_insert_with(|| json!({}));
        let key = status.to_string();
        match responses.get_mut(&key) {
            Some(existing) => {
                let old = existing["content"]["application/json"]["schema"].take();
                let alternatives = match old {
                    Value::Object(mut o) if o.contains_key("anyOf") => {
                        let mut list = o.remove("anyOf").unwrap_or_else(|| json!([]));
                        if let Some(items) = list.as_array_mut() {
                            items.push(schema);
                        }
                        list
                    }
                    Value::Null => json!([schema]),
                    other => json!([other, schema]),
                };
                let joined =
                    format!("{}; {description}", existing["description"].as_str().unwrap_or_default());
                existing["description"] = json!(joined);
                existing["content"] = json!({ "application/json": { "schema": { "anyOf": alternatives } } });
            }
            None => {
                responses[key] = json!({
                    "description": description,
                    "content": { "application/json": { "schema": schema } },
                });
            }
        }
    }

    fn respond(&mut self, ok: Value) {
        let error = self.builder.schema::<ErrorBody>();
        let error_content = json!({ "application/json": { "schema": error } });
        let mut responses = ok;
        responses["400"] =
            json!({ "description": "A parameter is missing or invalid", "content": error_content });
        responses["default"] = json!({ "description": "An error", "content": error_content });
        self.op.insert("responses".into(), responses);
    }
}

impl Drop for Operation<'_> {
    fn drop(&mut self) {
        let mut op = std::mem::take(&mut self.op);
        for (name, schema, required) in std::mem::take(&mut self.scalars) {
            match &mut self.form {
                Some((props, req)) => {
                    if required {
                        req.push(name.clone());
                    }
                    props.insert(name, schema);
                }
                None => self
                    .params
                    .push(json!({ "name": name, "in": "query", "required": required, "schema": schema })),
            }
        }
        if !self.params.is_empty() {
            op.insert("parameters".into(), Value::Array(std::mem::take(&mut self.params)));
        }
        if let Some((props, required)) = self.form.take() {
            let mut schema = json!({ "type": "object", "properties": props, "additionalProperties": false });
            if !required.is_empty() {
                schema["required"] = json!(required);
            }
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "multipart/form-data": { "schema": schema } } }),
            );
        }
        let (path, verb) = std::mem::take(&mut self.key);
        let entry = self.builder.paths.entry(path).or_insert_with(|| json!({}));
        entry[verb] = Value::Object(op);
    }
}

/// A route template as the document writes it: a catch-all (`{*rest}`) is a parameter like
/// any other (`{rest}`), as OpenAPI has no other kind.
fn document_path(template: &str) -> String {
    pieces(template).fold(String::with_capacity(template.len()), |mut path, piece| {
        match piece {
            Piece::Text(text) => path.push_str(text),
            Piece::Param(name) | Piece::CatchAll(name) => {
                path.push('{');
                path.push_str(name);
                path.push('}');
            }
        }
        path
    })
}
