//! The Cedar schema every gateway policy is validated against.
//!
//! The crate ships the entity types, the actions (MCP methods) and the context; the operator adds
//! one common type, `Args`, naming the tool arguments their policies read (each optional, since
//! tools differ): `type Args = { repo?: String, path?: String, amount?: Long };`. Without an
//! operator schema, `Args` is the empty record and a policy reading `context.args.x` fails
//! validation.
//!
//! At run time the call's arguments are *not* checked against `Args`: a tool may send arguments no
//! policy reads. A policy reading an argument of the wrong type fails to evaluate, and the engine
//! then fails closed (see `policy`).

/// The gateway's part of the schema (Cedar schema syntax).
pub const BASE_SCHEMA: &str = r#"// Warrant gateway schema: the agent, the MCP method, the server's tool, and the call.
// An agent, with what Warrant's inventory knows about it.
entity Agent = {
  id: String,
  name: String,
  owner: String,
  // False when the owner has left (disabled in the identity provider) or there is none.
  owner_active: Bool,
  tier: String,
  // Warrant's risk score, 0 to 100.
  risk: Long,
};
// An upstream MCP server, parent of its tools, resources and prompts.
entity Server;
// `Tool::"server::tool"`; labels come from gateway.toml (untrusted_input, sensitive_data, external_action).
entity Tool in [Server] = { server: String, name: String, labels: Set<String> };
entity Resource in [Server] = { server: String, uri: String };
entity Prompt in [Server] = { server: String, name: String };
type CallContext = {
  // The call's JSON arguments (see the operator's `Args`).
  args: Args,
  // Labels of the tools this task has used so far.
  taint: Set<String>,
  // The task a JIT token or the caller names.
  task?: String,
  // The decision's instant, seconds since the Unix epoch, and its hour (0-23, UTC).
  time: Long,
  hour: Long,
  source?: ipaddr,
};
action "tools/call" appliesTo { principal: [Agent], resource: [Tool], context: CallContext };
action "tools/list", "resources/list", "prompts/list" appliesTo { principal: [Agent], resource: [Server], context: CallContext };
action "resources/read" appliesTo { principal: [Agent], resource: [Resource], context: CallContext };
action "prompts/get" appliesTo { principal: [Agent], resource: [Prompt], context: CallContext };
"#;

/// The operator's part when they give none.
pub const DEFAULT_EXTENSION: &str = "type Args = {};\n";
