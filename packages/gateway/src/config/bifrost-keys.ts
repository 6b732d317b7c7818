/**
 * The key names of Bifrost's config.json (its transports/config.schema.json), per level, for the
 * unknown-key warnings: a key Bifrost knows is accepted quietly (ignored when Gatehouse has no use
 * for it); a key neither Bifrost nor Gatehouse knows is probably a typo.
 */
export const BIFROST_KEYS = {
  root: [
    '$schema', 'version', 'source_of_truth', 'encryption_key', 'env_label', 'auth_config', 'client', 'framework',
    'providers', 'governance', 'mcp', 'vector_store', 'config_store', 'logs_store', 'plugins', 'server',
    'cluster_config', 'saml_config', 'load_balancer_config', 'guardrails_config', 'websocket',
    'large_payload_optimization', 'audit_logs',
  ],
  client: [
    'drop_excess_requests', 'initial_pool_size', 'prometheus_labels', 'allowed_origins', 'enable_logging',
    'disable_content_logging', 'allow_per_request_content_storage_override', 'allow_per_request_raw_override',
    'disable_db_pings_in_health', 'dump_errors_in_console_logs', 'webhook_config', 'log_retention_days',
    'enforce_governance_header', 'enforce_auth_on_inference', 'dual_credential_conflict_behavior', 'enforce_scim_auth',
    'max_request_body_size_mb', 'compat', 'header_filter_config', 'async_job_result_ttl', 'required_headers',
    'logging_headers', 'whitelisted_routes', 'hide_deleted_virtual_keys_in_filters', 'allowed_headers',
    'allow_direct_keys', 'mcp_agent_depth', 'mcp_tool_execution_timeout', 'mcp_code_mode_binding_level',
    'mcp_tool_sync_interval', 'mcp_disable_auto_tool_inject', 'mcp_enable_temp_token_auth', 'routing_chain_max_depth',
    'mcp_external_client_url', 'mcp_server_auth_mode', 'oauth2_server_config', 'enable_governance',
  ],
  provider: [
    'keys', 'network_config', 'meta_config', 'concurrency_and_buffer_size', 'proxy_config', 'send_back_raw_request',
    'send_back_raw_response', 'store_raw_request_response', 'custom_provider_config', 'openai_config', 'pricing_overrides',
  ],
  network_config: [
    'base_url', 'extra_headers', 'default_request_timeout_in_seconds', 'max_retries', 'retry_backoff_initial',
    'retry_backoff_max', 'insecure_skip_verify', 'ca_cert_pem', 'stream_idle_timeout_in_seconds', 'max_conns_per_host',
    'enforce_http2',
  ],
  key: [
    'id', 'name', 'value', 'models', 'weight', 'enabled', 'description', 'azure_key_config', 'vertex_key_config',
    'bedrock_key_config', 'vllm_key_config', 'use_for_batch_api', 'config_hash', 'status',
  ],
  plugin: ['enabled', 'name', 'path', 'config', 'version', 'placement', 'order'],
} as const;

export type KeyLevel = keyof typeof BIFROST_KEYS;

/**
 * Bifrost's built-in plugins (entries with a name and no `path`), and what does their job in
 * Gatehouse: such an entry is skipped with a warning that says so.
 */
export const BIFROST_BUILTIN_PLUGINS: Readonly<Record<string, string>> = {
  telemetry: 'Gatehouse serves Prometheus metrics itself at GET /metrics',
  prometheus: 'Gatehouse serves Prometheus metrics itself at GET /metrics',
  otel: 'Gatehouse exports OpenTelemetry traces itself: configure them with the top-level "otel" key',
  logging: "Gatehouse's request log store (config \"logs_store\", GET /api/logs) records requests",
  governance: "Gatehouse's governance (the top-level \"governance\" key: virtual keys, budgets, rate limits) does this",
  semantic_cache: 'Gatehouse has no semantic cache yet; requests go to the provider uncached',
  semanticcache: 'Gatehouse has no semantic cache yet; requests go to the provider uncached',
  maxim: 'Gatehouse has no Maxim exporter; use its OpenTelemetry traces ("otel") or the log store instead',
  jsonparser: 'Gatehouse passes stream events on as they come; there is no JSON-repair plugin',
  mocker: 'Gatehouse has a built-in "mock" provider for this (a provider named mock)',
  litellmcompat: 'Gatehouse has no LiteLLM compatibility plugin',
  compat: 'Gatehouse has no request-conversion plugin',
};
