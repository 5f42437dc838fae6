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
    security_schemes: Map<String, Value>,
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
            security_schemes: Map::new(),
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
            empty_is_absent: Vec::new(),
            form: None,
            scalars_in_body: false,
            security: Map::new(),
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
            // The paths carry the route root path: the server is the origin the document is read
            // from.
            "servers": [{ "url": "/" }],
            "tags": self.tags,
            "paths": paths,
            "components": { "schemas": schemas },
        });
        if !self.security_schemes.is_empty() {
            doc["components"]["securitySchemes"] = Value::Object(self.security_schemes);
        }
        bound_integers(&mut doc);
        tidy_schemas(&mut doc);
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
            // schemars writes an integer's bounds as floats (`"minimum": 0.0`): as integers.
            if map.get("type").and_then(Value::as_str) == Some("integer") {
                for bound in ["minimum", "maximum"] {
                    if let Some(float) = map.get(bound).and_then(Value::as_f64).filter(|f| f.fract() == 0.0) {
                        if map[bound].is_f64() && float.abs() < 9.0e15 {
                            map.insert(bound.into(), json!(float as i64));
                        }
                    }
                }
            }
            map.values_mut().for_each(bound_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// What OpenAPI 3.0 readers need of schemars' output: a `$ref` with siblings (an `Option` of a
/// model is `{"$ref", "nullable": true}`, whose `nullable` 3.0 says to ignore) becomes an
/// `allOf` of the reference. Values that are data, not schemas (`default`, `example`, `enum`),
/// are left alone, and a `properties` map is a map of schemas, not one.
///
/// No `discriminator` is added to serde's tagged enums: schemars writes their variants inline,
/// and a discriminator without named variant schemas would point its readers at schemas named
/// after the tag values.
fn tidy_schemas(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.len() > 1 && !map.contains_key("allOf") {
                if let Some(reference) = map.remove("$ref") {
                    map.insert("allOf".into(), json!([{ "$ref": reference }]));
                }
            }
            for (key, child) in map.iter_mut() {
                match key.as_str() {
                    "default" | "example" | "examples" | "enum" | "const" => {}
                    "properties" => {
                        child.as_object_mut().into_iter().flat_map(|p| p.values_mut()).for_each(tidy_schemas)
                    }
                    _ => tidy_schemas(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy_schemas),
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

/// What an operation answers when it succeeds: a status, its body's media type and schema,
/// and the headers it sets.
#[doc(hidden)]
#[derive(Debug)]
pub struct Success {
    pub(crate) status: u16,
    pub(crate) description: String,
    pub(crate) content: Option<(String, Value)>,
    /// Extensions (`x-...`) of the body's media type object.
    pub(crate) media_extensions: Map<String, Value>,
    pub(crate) headers: Map<String, Value>,
}

impl Success {
    pub(crate) fn new(status: u16, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
            content: None,
            media_extensions: Map::new(),
            headers: Map::new(),
        }
    }

    /// With a body of `media`, described by `schema`.
    pub(crate) fn content(mut self, media: impl Into<String>, schema: Value) -> Self {
        self.content = Some((media.into(), schema));
        self
    }

    /// With the extension `key` (an `x-` name) on the body's media type.
    pub(crate) fn media_extension(mut self, key: &str, value: Value) -> Self {
        self.media_extensions.insert(key.to_owned(), value);
        self
    }

    /// With the header `name`.
    pub(crate) fn header(mut self, name: &str, schema: Value, required: bool, description: &str) -> Self {
        let mut header = json!({ "schema": schema, "required": required });
        if !description.is_empty() {
            header["description"] = json!(description);
        }
        self.headers.insert(name.to_owned(), header);
        self
    }

    /// With another status (and its description).
    pub(crate) fn status(mut self, status: u16, description: impl Into<String>) -> Self {
        self.status = status;
        self.description = description.into();
        self
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
    /// The scalars sent empty when absent (an optional number left blank in an HTML form).
    empty_is_absent: Vec<String>,
    form: Option<(Map<String, Value>, Vec<String>)>,
    /// Whether the scalars outside the path are an urlencoded form body (a POST, PUT or PATCH
    /// without a JSON body) rather than the query string.
    scalars_in_body: bool,
    /// The security schemes the operation requires, all of them.
    security: Map<String, Value>,
}

impl std::fmt::Debug for Operation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation").field("key", &self.key).finish_non_exhaustive()
    }
}

impl Operation<'_> {
    /// Puts the scalars outside the path in an urlencoded form body, where the generated client
    /// sends them (the server takes them from the query string too).
    pub(crate) fn scalars_in_body(&mut self) {
        self.scalars_in_body = true;
    }

    /// A scalar parameter with the schema of one value: in the path, a header or a cookie,
    /// or (any number of times when `multiple`) in the query or the form.
    pub(crate) fn scalar(&mut self, name: &str, place: &str, one: Value, required: bool, multiple: bool) {
        if place == "path" {
            self.params.push(json!({ "name": name, "in": "path", "required": true, "schema": one }));
            return;
        }
        let schema = if multiple { json!({ "type": "array", "items": one }) } else { one };
        if place == "query" {
            self.scalars.push((name.to_owned(), schema, required));
        } else {
            self.params.push(json!({ "name": name, "in": place, "required": required, "schema": schema }));
        }
    }

    /// The optional scalar `name` (added before) may be sent empty, which is taken as absent:
    /// in the query string, `allowEmptyValue`; in a form body, its schema takes `""` too.
    pub(crate) fn empty_is_absent(&mut self, name: &str) {
        if let Some(name) = self.scalars.iter().find(|(n, ..)| n == name).map(|(n, ..)| n.clone()) {
            self.empty_is_absent.push(name);
        }
    }

    /// A header or cookie an extractor reads (`place` is `header` or `cookie`).
    pub(crate) fn head_param(&mut self, place: &str, name: &str, required: bool, description: &str) {
        let mut param =
            json!({ "name": name, "in": place, "required": required, "schema": { "type": "string" } });
        if !description.is_empty() {
            param["description"] = json!(description);
        }
        self.params.push(param);
    }

    /// The operation requires the credentials of `scheme`, named `name` in the document.
    pub(crate) fn security(&mut self, name: &str, scheme: Value) {
        match self.builder.security_schemes.get(name) {
            Some(first) if *first != scheme => tracing::warn!(
                scheme = name,
                "two extractors name different security schemes `{name}`: the document keeps the first; give one another name"
            ),
            Some(_) => {}
            None => {
                self.builder.security_schemes.insert(name.to_owned(), scheme);
            }
        }
        self.security.insert(name.to_owned(), json!([]));
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

    /// The success response of the operation.
    pub(crate) fn success(&mut self, success: Success) {
        let mut response = json!({ "description": success.description });
        if let Some((media, schema)) = success.content {
            let mut media_type = success.media_extensions;
            media_type.insert("schema".into(), schema);
            response["content"] = json!({ media: media_type });
        }
        if !success.headers.is_empty() {
            response["headers"] = Value::Object(success.headers);
        }
        let mut responses = Map::new();
        responses.insert(success.status.to_string(), response);
        self.respond(Value::Object(responses));
    }

    /// A success response: 200 with the JSON body of `T`.
    pub(crate) fn json_success<T: JsonSchema>(&mut self) -> Success {
        let schema = self.builder.schema::<T>();
        Success::new(200, "OK").content("application/json", schema)
    }

    /// The response headers a header struct `H` states: one per property of its schema.
    pub(crate) fn header_schemas<H: JsonSchema>(&mut self) -> Map<String, Value> {
        let mut settings = SchemaSettings::openapi3();
        settings.inline_subschemas = true;
        let root = settings.into_generator().into_root_schema_for::<H>();
        let schema = serde_json::to_value(root.schema).unwrap_or(Value::Null);
        let required: Vec<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let mut headers = Map::new();
        if let Some(properties) = schema["properties"].as_object() {
            for (name, property) in properties {
                let mut header = json!({ "schema": property });
                if let Some(description) = property.get("description") {
                    header["description"] = description.clone();
                }
                if required.contains(&name.as_str()) {
                    header["required"] = json!(true);
                }
                headers.insert(name.clone(), header);
            }
        }
        headers
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
        let blank_ok = std::mem::take(&mut self.empty_is_absent);
        let in_body = self.scalars_in_body || self.form.is_some();
        for (name, schema, _) in &mut self.scalars {
            if in_body && blank_ok.contains(name) {
                *schema = json!({ "anyOf": [schema.take(), { "type": "string", "maxLength": 0 }] });
            }
        }
        if self.scalars_in_body && self.form.is_none() && !self.scalars.is_empty() {
            let mut props = Map::new();
            let mut required = Vec::new();
            for (name, schema, needed) in std::mem::take(&mut self.scalars) {
                if needed {
                    required.push(name.clone());
                }
                props.insert(name, schema);
            }
            // No `additionalProperties: false`: as in the query string, a field no parameter
            // is named after is ignored (as Go's ParseForm does), unlike a multipart one.
            let mut schema = json!({ "type": "object", "properties": props });
            let any_required = !required.is_empty();
            if any_required {
                schema["required"] = json!(required);
            }
            op.insert(
                "requestBody".into(),
                json!({
                    "required": any_required,
                    "content": { "application/x-www-form-urlencoded": { "schema": schema } }
                }),
            );
        }
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
                    .push(if blank_ok.contains(&name) {
                        json!({ "name": name, "in": "query", "required": required, "allowEmptyValue": true, "schema": schema })
                    } else {
                        json!({ "name": name, "in": "query", "required": required, "schema": schema })
                    }),
            }
        }
        if !self.params.is_empty() {
            op.insert("parameters".into(), Value::Array(std::mem::take(&mut self.params)));
        }
        if !self.security.is_empty() {
            op.insert("security".into(), json!([Value::Object(std::mem::take(&mut self.security))]));
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                let error = responses.get("default").and_then(|d| d.get("content")).cloned();
                let mut unauthorized = json!({ "description": "Missing or invalid credentials" });
                if let Some(content) = error {
                    unauthorized["content"] = content;
                }
                responses.entry("401").or_insert(unauthorized);
            }
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
