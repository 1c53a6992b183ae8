package otelview

import (
	"strings"
)

// Mapping is what one source family is called in the OpenTelemetry view.
type Mapping struct {
	// Source is the family's metric name as the receiver emits it
	// verbatim (counters with their `_total`).
	Source string
	// Name follows the OpenTelemetry naming rules: dots between
	// namespaces, no unit and no `_total` in the name, lowercase.
	Name string
	// Unit is UCUM (with `{annotation}` for counted things), or empty
	// where the source does not say what it counts.
	Unit string
	// Shift is the decimal exponent the values are scaled by: -3 turns
	// milliseconds into seconds. OpenTelemetry wants durations in `s`.
	Shift int
}

// UCUM units the table uses. Durations are always seconds; sizes are bytes
// with the SI prefix the source used, since the value is not rescaled.
const (
	unitSeconds   = "s"
	unitBytes     = "By"
	unitMegabytes = "MBy"
	unitGigabytes = "GBy"
	unitGBps      = "GBy/s"
	unitRatio     = "1"
	unitPercent   = "%"
	unitToken     = "{token}"
	unitTokenPS   = "{token}/s"
	unitRequest   = "{request}"
	unitBlock     = "{block}"
)

// table is the OpenTelemetry view's name and unit for every family in
// SGLang's and Dynamo's sources that this project knows (see
// shared/reference/sglang-dynamo-metrics.md). The GenAI sources
// (genai.go) are not here: in the view they become the GenAI histograms.
// docs/otel-view.md shows this table; TestDocsTable keeps the two equal.
var table = []Mapping{
	// SGLang scheduler: requests and queues.
	m("sglang:num_running_reqs", "sglang.num_running_reqs", unitRequest),
	m("sglang:num_queue_reqs", "sglang.num_queue_reqs", unitRequest),
	m("sglang:num_grammar_queue_reqs", "sglang.num_grammar_queue_reqs", unitRequest),
	m("sglang:num_retracted_reqs", "sglang.num_retracted_reqs", unitRequest),
	m("sglang:num_paused_reqs", "sglang.num_paused_reqs", unitRequest),
	m("sglang:num_prefill_bootstrap_queue_reqs", "sglang.num_prefill_bootstrap_queue_reqs", unitRequest),
	m("sglang:num_prefill_prealloc_queue_reqs", "sglang.num_prefill_prealloc_queue_reqs", unitRequest),
	m("sglang:num_prefill_inflight_queue_reqs", "sglang.num_prefill_inflight_queue_reqs", unitRequest),
	m("sglang:num_decode_prealloc_queue_reqs", "sglang.num_decode_prealloc_queue_reqs", unitRequest),
	m("sglang:num_decode_transfer_queue_reqs", "sglang.num_decode_transfer_queue_reqs", unitRequest),
	m("sglang:max_running_requests_under_SLO", "sglang.max_running_requests_under_slo", unitRequest),
	m("sglang:num_retracted_requests_total", "sglang.num_retracted_requests", unitRequest),
	// The counter's name before SGLang renamed it: one name in the view.
	m("sglang:num_retracted_reqs_total", "sglang.num_retracted_requests", unitRequest),
	m("sglang:num_bootstrap_failed_reqs_total", "sglang.num_bootstrap_failed_reqs", unitRequest),
	m("sglang:num_transfer_failed_reqs_total", "sglang.num_transfer_failed_reqs", unitRequest),
	m("sglang:num_prefill_retries_total", "sglang.num_prefill_retries", "{retry}"),
	m("sglang:kv_transfer_timeouts_total", "sglang.kv_transfer_timeouts", "{timeout}"),
	m("sglang:num_streaming_sessions", "sglang.num_streaming_sessions", "{session}"),
	// SGLang scheduler: tokens, pools and throughput.
	m("sglang:gen_throughput", "sglang.gen_throughput", unitTokenPS),
	m("sglang:decode_sum_seq_lens", "sglang.decode_sum_seq_lens", unitToken),
	m("sglang:num_used_tokens", "sglang.num_used_tokens", unitToken),
	m("sglang:kv_available_tokens", "sglang.kv_available_tokens", unitToken),
	m("sglang:kv_evictable_tokens", "sglang.kv_evictable_tokens", unitToken),
	m("sglang:kv_used_tokens", "sglang.kv_used_tokens", unitToken),
	m("sglang:swa_available_tokens", "sglang.swa_available_tokens", unitToken),
	m("sglang:swa_evictable_tokens", "sglang.swa_evictable_tokens", unitToken),
	m("sglang:swa_used_tokens", "sglang.swa_used_tokens", unitToken),
	m("sglang:mamba_available_tokens", "sglang.mamba_available_tokens", "{slot}"),
	m("sglang:mamba_evictable_tokens", "sglang.mamba_evictable_tokens", "{slot}"),
	m("sglang:mamba_used_tokens", "sglang.mamba_used_tokens", "{slot}"),
	m("sglang:max_total_num_tokens", "sglang.max_total_num_tokens", unitToken),
	m("sglang:max_total_num_tokens_swa", "sglang.max_total_num_tokens_swa", unitToken),
	m("sglang:streaming_session_held_tokens", "sglang.streaming_session_held_tokens", unitToken),
	m("sglang:hicache_host_used_tokens", "sglang.hicache_host_used_tokens", unitToken),
	m("sglang:hicache_host_total_tokens", "sglang.hicache_host_total_tokens", unitToken),
	m("sglang:hicache_host_pool_used_tokens", "sglang.hicache_host_pool_used_tokens", unitToken),
	m("sglang:page_size", "sglang.page_size", unitToken),
	m("sglang:num_pages", "sglang.num_pages", "{page}"),
	m("sglang:context_len", "sglang.context_len", unitToken),
	m("sglang:spec_accept_length", "sglang.spec_accept_length", unitToken),
	m("sglang:spec_cap_length", "sglang.spec_cap_length", unitToken),
	m("sglang:spec_block_accept_length", "sglang.spec_block_accept_length", unitToken),
	m("sglang:spec_num_steps", "sglang.spec_num_steps", "{step}"),
	m("sglang:spec_num_draft_tokens", "sglang.spec_num_draft_tokens", unitToken),
	m("sglang:num_retracted_input_tokens_total", "sglang.num_retracted_input_tokens", unitToken),
	m("sglang:num_retracted_output_tokens_total", "sglang.num_retracted_output_tokens", unitToken),
	m("sglang:realtime_tokens_total", "sglang.realtime_tokens", unitToken),
	m("sglang:prefill_effective_tokens_total", "sglang.prefill_effective_tokens", unitToken),
	m("sglang:dp_cooperation_realtime_tokens_total", "sglang.dp_cooperation_realtime_tokens", unitToken),
	// SGLang scheduler: ratios.
	m("sglang:cache_hit_rate", "sglang.cache_hit_rate", unitRatio),
	m("sglang:token_usage", "sglang.token_usage", unitRatio),
	m("sglang:full_token_usage", "sglang.full_token_usage", unitRatio),
	m("sglang:swa_token_usage", "sglang.swa_token_usage", unitRatio),
	m("sglang:mamba_usage", "sglang.mamba_usage", unitRatio),
	m("sglang:pending_prealloc_token_usage", "sglang.pending_prealloc_token_usage", unitRatio),
	m("sglang:spec_accept_rate", "sglang.spec_accept_rate", unitRatio),
	m("sglang:new_token_ratio", "sglang.new_token_ratio", unitRatio),
	m("sglang:utilization", "sglang.utilization", unitRatio),
	m("sglang:fwd_occupancy", "sglang.fwd_occupancy", unitPercent),
	m("sglang:is_cuda_graph", "sglang.is_cuda_graph", unitRatio),
	m("sglang:lora_pool_slots_used", "sglang.lora_pool_slots_used", "{slot}"),
	// A gauge of capacity, not a counter: `_limit`, as OpenTelemetry names capacities.
	m("sglang:lora_pool_slots_total", "sglang.lora_pool_slots_limit", "{slot}"),
	m("sglang:lora_pool_utilization", "sglang.lora_pool_utilization", unitRatio),
	m("sglang:prefetch_occupied_ratio", "sglang.prefetch_occupied_ratio", unitRatio),
	m("sglang:num_unique_running_routing_keys", "sglang.num_unique_running_routing_keys", "{routing_key}"),
	m("sglang:routing_key_running_req_count", "sglang.routing_key_running_req_count", "{routing_key}"),
	m("sglang:routing_key_all_req_count", "sglang.routing_key_all_req_count", "{routing_key}"),
	// SGLang scheduler: time, memory, forward passes.
	m("sglang:weight_load_duration_seconds", "sglang.weight_load_duration", unitSeconds),
	m("sglang:forward_execution_seconds_total", "sglang.forward_execution", unitSeconds),
	m("sglang:gpu_execution_seconds_total", "sglang.gpu_execution", unitSeconds),
	m("sglang:dp_cooperation_forward_execution_seconds_total", "sglang.dp_cooperation_forward_execution", unitSeconds),
	m("sglang:dp_cooperation_gpu_execution_seconds_total", "sglang.dp_cooperation_gpu_execution", unitSeconds),
	m("sglang:cuda_graph_passes_total", "sglang.cuda_graph_passes", "{pass}"),
	m("sglang:estimated_flops_per_gpu_total", "sglang.estimated_flops_per_gpu", "{flop}"),
	// The unit word is inside the name here.
	m("sglang:estimated_read_bytes_per_gpu_total", "sglang.estimated_read_size_per_gpu", unitBytes),
	m("sglang:estimated_write_bytes_per_gpu_total", "sglang.estimated_write_size_per_gpu", unitBytes),
	m("sglang:weight_memory_usage_gb", "sglang.weight_memory_usage", unitGigabytes),
	m("sglang:kv_cache_memory_usage_gb", "sglang.kv_cache_memory_usage", unitGigabytes),
	m("sglang:graph_memory_usage_gb", "sglang.graph_memory_usage", unitGigabytes),
	m("sglang:startup_available_gpu_memory_gb", "sglang.startup_available_gpu_memory", unitGigabytes),
	m("sglang:queue_time_seconds", "sglang.queue_time", unitSeconds),
	m("sglang:per_stage_req_latency_seconds", "sglang.per_stage_req_latency", unitSeconds),
	m("sglang:prefill_delayer_wait_forward_passes", "sglang.prefill_delayer_wait_forward_passes", "{pass}"),
	m("sglang:prefill_delayer_wait_seconds", "sglang.prefill_delayer_wait", unitSeconds),
	m("sglang:prefill_delayer_outcomes_total", "sglang.prefill_delayer_outcomes", "{outcome}"),
	m("sglang:eplb_balancedness", "sglang.eplb_balancedness", unitRatio),
	m("sglang:eplb_gpu_physical_count", "sglang.eplb_gpu_physical_count", "{expert}"),
	m("sglang:scheduler_idle_seconds_total", "sglang.scheduler_idle", unitSeconds),
	m("sglang:scheduler_process_cpu_seconds_total", "sglang.scheduler_process_cpu", unitSeconds),
	m("sglang:scheduler_stage_seconds_total", "sglang.scheduler_stage", unitSeconds),
	// SGLang disaggregation: KV transfer (gauges in old releases,
	// histograms now; ms families are scaled to seconds).
	ms("sglang:kv_transfer_latency_ms", "sglang.kv_transfer_latency"),
	ms("sglang:kv_transfer_bootstrap_ms", "sglang.kv_transfer_bootstrap"),
	ms("sglang:kv_transfer_alloc_ms", "sglang.kv_transfer_alloc"),
	m("sglang:kv_transfer_speed_gb_s", "sglang.kv_transfer_speed", unitGBps),
	m("sglang:kv_transfer_total_mb", "sglang.kv_transfer_size", unitMegabytes),
	// SGLang grammar.
	m("sglang:grammar_compilation_time_seconds", "sglang.grammar_compilation_time", unitSeconds),
	m("sglang:grammar_schema_count", "sglang.grammar_schema_count", "{schema}"),
	m("sglang:grammar_ebnf_size", "sglang.grammar_ebnf_size", ""),
	m("sglang:grammar_tree_traversal_time_avg", "sglang.grammar_tree_traversal_time_avg", unitSeconds),
	m("sglang:grammar_tree_traversal_time_max", "sglang.grammar_tree_traversal_time_max", unitSeconds),
	m("sglang:num_grammar_cache_hit_total", "sglang.num_grammar_cache_hit", unitRequest),
	m("sglang:num_grammar_aborted_total", "sglang.num_grammar_aborted", unitRequest),
	m("sglang:num_grammar_timeout_total", "sglang.num_grammar_timeout", unitRequest),
	m("sglang:num_grammar_total", "sglang.num_grammar", unitRequest),
	// SGLang tokenizer (request level).
	m("sglang:prompt_tokens_total", "sglang.prompt_tokens", unitToken),
	m("sglang:generation_tokens_total", "sglang.generation_tokens", unitToken),
	m("sglang:cached_tokens_total", "sglang.cached_tokens", unitToken),
	m("sglang:num_requests_total", "sglang.num_requests", unitRequest),
	m("sglang:num_so_requests_total", "sglang.num_so_requests", unitRequest),
	m("sglang:num_aborted_requests_total", "sglang.num_aborted_requests", unitRequest),
	m("sglang:spec_verify_calls_total", "sglang.spec_verify_calls", "{call}"),
	m("sglang:prompt_tokens_histogram", "sglang.prompt_tokens_histogram", unitToken),
	m("sglang:uncached_prompt_tokens_histogram", "sglang.uncached_prompt_tokens_histogram", unitToken),
	m("sglang:generation_tokens_histogram", "sglang.generation_tokens_histogram", unitToken),
	m("sglang:inter_token_latency_seconds", "sglang.inter_token_latency", unitSeconds),
	m("sglang:time_per_output_token_seconds", "sglang.time_per_output_token", unitSeconds),
	m("sglang:get_loads_duration_seconds", "sglang.get_loads_duration", unitSeconds),
	m("sglang:startup_time_seconds", "sglang.startup_time", unitSeconds),
	m("sglang:startup_cuda_graph_time_seconds", "sglang.startup_cuda_graph_time", unitSeconds),
	m("sglang:engine_startup_time", "sglang.engine_startup_time", unitSeconds),
	m("sglang:engine_load_weights_time", "sglang.engine_load_weights_time", unitSeconds),
	m("sglang:num_retractions", "sglang.num_retractions", "{retraction}"),
	// SGLang HiCache.
	m("sglang:evicted_tokens_total", "sglang.evicted_tokens", unitToken),
	m("sglang:load_back_tokens_total", "sglang.load_back_tokens", unitToken),
	m("sglang:prefetched_tokens_total", "sglang.prefetched_tokens", unitToken),
	m("sglang:backuped_tokens_total", "sglang.backuped_tokens", unitToken),
	m("sglang:hicache_backup_tokens_total", "sglang.hicache_backup_tokens", unitToken),
	m("sglang:hicache_dropped_tokens_total", "sglang.hicache_dropped_tokens", unitToken),
	m("sglang:hicache_backup_dropped_tokens_total", "sglang.hicache_backup_dropped_tokens", unitToken),
	m("sglang:hicache_prefetch_aux_alloc_failed_tokens_total", "sglang.hicache_prefetch_aux_alloc_failed_tokens", unitToken),
	m("sglang:hicache_prefetch_outcomes_total", "sglang.hicache_prefetch_outcomes", "{prefetch}"),
	m("sglang:hicache_backup_bytes_total", "sglang.hicache_backup_size", unitBytes),
	m("sglang:load_back_bytes_total", "sglang.load_back_size", unitBytes),
	m("sglang:eviction_duration_seconds", "sglang.eviction_duration", unitSeconds),
	m("sglang:load_back_duration_seconds", "sglang.load_back_duration", unitSeconds),
	m("sglang:hicache_backup_duration_seconds", "sglang.hicache_backup_duration", unitSeconds),
	m("sglang:prefetch_pgs", "sglang.prefetch_pgs", "{page}"),
	m("sglang:backup_pgs", "sglang.backup_pgs", "{page}"),
	m("sglang:prefetch_bandwidth", "sglang.prefetch_bandwidth", unitGBps),
	m("sglang:backup_bandwidth", "sglang.backup_bandwidth", unitGBps),
	// SGLang HTTP server and process.
	m("sglang:http_requests_total", "sglang.http_requests", unitRequest),
	m("sglang:http_responses_total", "sglang.http_responses", "{response}"),
	m("sglang:http_requests_active", "sglang.http_requests_active", unitRequest),
	m("sglang:http_request_size_bytes", "sglang.http_request_size", unitBytes),
	m("sglang:http_response_size_bytes", "sglang.http_response_size", unitBytes),
	m("sglang:http_request_latency_seconds", "sglang.http_request_latency", unitSeconds),
	m("sglang:routing_keys_active", "sglang.routing_keys_active", "{routing_key}"),
	m("sglang:func_latency_seconds", "sglang.func_latency", unitSeconds),
	m("sglang:process_cpu_seconds_total", "sglang.process_cpu", unitSeconds),

	// Dynamo backend worker (system port).
	m("dynamo_component_requests_total", "dynamo.component.requests", unitRequest),
	m("dynamo_component_request_duration_seconds", "dynamo.component.request_duration", unitSeconds),
	m("dynamo_component_inflight_requests", "dynamo.component.inflight_requests", unitRequest),
	m("dynamo_component_request_bytes_total", "dynamo.component.request_size", unitBytes),
	m("dynamo_component_response_bytes_total", "dynamo.component.response_size", unitBytes),
	m("dynamo_component_errors_total", "dynamo.component.errors", "{error}"),
	m("dynamo_component_cancellation_total", "dynamo.component.cancellation", unitRequest),
	m("dynamo_component_uptime_seconds", "dynamo.component.uptime", unitSeconds),
	m("dynamo_component_total_blocks", "dynamo.component.total_blocks", unitBlock),
	m("dynamo_component_gpu_cache_usage_percent", "dynamo.component.gpu_cache_usage", unitRatio),
	m("dynamo_component_model_load_time_seconds", "dynamo.component.model_load_time", unitSeconds),
	m("dynamo_component_gpu_info", "dynamo.component.gpu_info", unitRatio),
	m("dynamo_component_kvstats_active_blocks", "dynamo.component.kvstats_active_blocks", unitBlock),
	m("dynamo_component_kvstats_total_blocks", "dynamo.component.kvstats_total_blocks", unitBlock),
	m("dynamo_component_kvstats_gpu_cache_usage_percent", "dynamo.component.kvstats_gpu_cache_usage", unitRatio),
	m("dynamo_component_kvstats_gpu_prefix_cache_hit_rate", "dynamo.component.kvstats_gpu_prefix_cache_hit_rate", unitRatio),
	m("dynamo_component_network_transit_seconds", "dynamo.component.network_transit", unitSeconds),
	m("dynamo_work_handler_network_transit_seconds", "dynamo.work_handler.network_transit", unitSeconds),
	m("dynamo_component_router_requests_total", "dynamo.component.router_requests", unitRequest),
	m("dynamo_component_router_time_to_first_token_seconds", "dynamo.component.router_time_to_first_token", unitSeconds),
	m("dynamo_component_router_inter_token_latency_seconds", "dynamo.component.router_inter_token_latency", unitSeconds),
	m("dynamo_component_router_input_sequence_tokens", "dynamo.component.router_input_sequence_tokens", unitToken),
	m("dynamo_component_router_output_sequence_tokens", "dynamo.component.router_output_sequence_tokens", unitToken),
	m("dynamo_component_router_kv_hit_rate", "dynamo.component.router_kv_hit_rate", unitRatio),

	// Dynamo frontend (HTTP port).
	m("dynamo_frontend_requests_total", "dynamo.frontend.requests", unitRequest),
	m("dynamo_frontend_requests_started_total", "dynamo.frontend.requests_started", unitRequest),
	m("dynamo_frontend_inflight_requests", "dynamo.frontend.inflight_requests", unitRequest),
	m("dynamo_frontend_active_requests", "dynamo.frontend.active_requests", unitRequest),
	m("dynamo_frontend_queued_requests", "dynamo.frontend.queued_requests", unitRequest),
	m("dynamo_frontend_disconnected_clients", "dynamo.frontend.disconnected_clients", "{client}"),
	m("dynamo_frontend_input_sequence_tokens", "dynamo.frontend.input_sequence_tokens", unitToken),
	m("dynamo_frontend_output_sequence_tokens", "dynamo.frontend.output_sequence_tokens", unitToken),
	m("dynamo_frontend_cached_tokens", "dynamo.frontend.cached_tokens", unitToken),
	m("dynamo_frontend_output_tokens_total", "dynamo.frontend.output_tokens", unitToken),
	m("dynamo_frontend_inter_token_latency_seconds", "dynamo.frontend.inter_token_latency", unitSeconds),
	ms("dynamo_frontend_tokenizer_latency_ms", "dynamo.frontend.tokenizer_latency"),
	m("dynamo_frontend_embedding_latency_seconds", "dynamo.frontend.embedding_latency", unitSeconds),
	m("dynamo_frontend_model_total_kv_blocks", "dynamo.frontend.model_total_kv_blocks", unitBlock),
	m("dynamo_frontend_model_max_num_seqs", "dynamo.frontend.model_max_num_seqs", "{sequence}"),
	m("dynamo_frontend_model_max_num_batched_tokens", "dynamo.frontend.model_max_num_batched_tokens", unitToken),
	m("dynamo_frontend_model_context_length", "dynamo.frontend.model_context_length", unitToken),
	m("dynamo_frontend_model_kv_cache_block_size", "dynamo.frontend.model_kv_cache_block_size", unitToken),
	m("dynamo_frontend_model_migration_limit", "dynamo.frontend.model_migration_limit", "{migration}"),
	m("dynamo_frontend_model_migration_total", "dynamo.frontend.model_migration", "{migration}"),
	m("dynamo_frontend_model_migration_duration_seconds", "dynamo.frontend.model_migration_duration", unitSeconds),
	m("dynamo_frontend_model_cancellation_total", "dynamo.frontend.model_cancellation", unitRequest),
	m("dynamo_frontend_model_rejection_total", "dynamo.frontend.model_rejection", unitRequest),
	m("dynamo_frontend_model_ready", "dynamo.frontend.model_ready", unitRatio),
	m("dynamo_frontend_worker_active_decode_blocks", "dynamo.frontend.worker_active_decode_blocks", unitBlock),
	m("dynamo_frontend_worker_active_prefill_tokens", "dynamo.frontend.worker_active_prefill_tokens", unitToken),
	m("dynamo_frontend_stage_requests", "dynamo.frontend.stage_requests", unitRequest),
	m("dynamo_frontend_stage_duration_seconds", "dynamo.frontend.stage_duration", unitSeconds),
	m("dynamo_frontend_lora_churn_loads_total", "dynamo.frontend.lora_churn_loads", "{load}"),
	m("dynamo_frontend_lora_churn_unloads_total", "dynamo.frontend.lora_churn_unloads", "{unload}"),
}

func m(src, name, unit string) Mapping { return Mapping{Source: src, Name: name, Unit: unit} }

// ms is a millisecond family: seconds in the view, values scaled by 10^-3.
func ms(src, name string) Mapping {
	return Mapping{Source: src, Name: name, Unit: unitSeconds, Shift: -3}
}

// byName indexes table.
var byName = func() map[string]Mapping {
	idx := make(map[string]Mapping, len(table))
	for _, e := range table {
		idx[e.Source] = e
	}
	return idx
}()

// Table returns a copy of the name table, in its order.
func Table() []Mapping { return append([]Mapping(nil), table...) }

// Resolve gives a family's name and unit in the view: the table's entry,
// or the fallback rule's.
func Resolve(src string) Mapping {
	if e, ok := byName[src]; ok {
		return e
	}
	return Fallback(src)
}

// dynamoSubsystems are the second part of Dynamo's prefixes
// (`dynamo_<subsystem>_`), which become namespaces of their own.
var dynamoSubsystems = []string{
	"component", "frontend", "router", "kvindexer", "request_plane", "transport",
	"work_handler", "rejection", "tokio", "routing_overhead", "preprocessor",
}

// unitSuffixes are the Prometheus unit suffixes the fallback recognises, in
// the order they are tried (longer before their own suffixes). Replace is
// what stands in the name instead, where the bare stem would lose its noun.
var unitSuffixes = []struct {
	suffix, replace, unit string
	shift                 int
}{
	{"_gb_s", "", unitGBps, 0},
	{"_seconds", "", unitSeconds, 0},
	{"_ms", "", unitSeconds, -3},
	{"_us", "", unitSeconds, -6},
	{"_ns", "", unitSeconds, -9},
	{"_bytes", "_size", unitBytes, 0},
	{"_gb", "", unitGigabytes, 0},
	{"_mb", "", unitMegabytes, 0},
	{"_ratio", "_ratio", unitRatio, 0},
	{"_percent", "", unitPercent, 0},
}

// countNouns give a counted thing's unit from the last word of the name.
var countNouns = map[string]string{
	"token": unitToken, "tokens": unitToken,
	"req": unitRequest, "reqs": unitRequest, "request": unitRequest, "requests": unitRequest,
	"block": unitBlock, "blocks": unitBlock,
}

// Fallback is the rule for a family the table does not know:
//  1. the namespace becomes dotted: `sglang:` → `sglang.`, `dynamo_<subsystem>_`
//     → `dynamo.<subsystem>.` for Dynamo's known subsystems, else `dynamo_` →
//     `dynamo.`; any other colon becomes a dot;
//  2. a trailing `_total` is dropped (counters, and Dynamo's `_total` gauges);
//  3. a unit suffix is dropped and becomes the unit (unitSuffixes): `_seconds`
//     → s; `_ms`, `_us`, `_ns` → s with the values scaled; `_bytes` → By (the
//     name then ends in `_size`); `_gb`, `_mb` → GBy, MBy; `_gb_s` → GBy/s;
//     `_percent` → %; `_ratio` → 1;
//  4. otherwise a last word naming a counted thing gives `{token}`,
//     `{request}` or `{block}` (the word before a trailing `histogram`,
//     `count`, `avg` or `max` counts too), and anything else has no unit;
//  5. the name is lowercased.
func Fallback(src string) Mapping {
	ns, rest := splitNamespace(src)
	rest = strings.TrimSuffix(rest, "_total")
	out := Mapping{Source: src}
	for _, s := range unitSuffixes {
		if len(rest) > len(s.suffix) && strings.HasSuffix(rest, s.suffix) {
			rest = rest[:len(rest)-len(s.suffix)]
			if !strings.HasSuffix(rest, s.replace) {
				rest += s.replace
			}
			out.Unit, out.Shift = s.unit, s.shift
			break
		}
	}
	if out.Unit == "" {
		out.Unit = nounUnit(rest)
	}
	out.Name = strings.ToLower(ns + strings.ReplaceAll(rest, ":", "."))
	return out
}

// splitNamespace splits off the namespace, already in dotted form.
func splitNamespace(src string) (ns, rest string) {
	if r, ok := strings.CutPrefix(src, "sglang:"); ok {
		return "sglang.", r
	}
	if r, ok := strings.CutPrefix(src, "dynamo_"); ok {
		for _, sub := range dynamoSubsystems {
			if rr, ok := strings.CutPrefix(r, sub+"_"); ok && rr != "" {
				return "dynamo." + sub + ".", rr
			}
		}
		return "dynamo.", r
	}
	return "", src
}

func nounUnit(stem string) string {
	words := strings.Split(stem, "_")
	for i := len(words) - 1; i >= 0 && i >= len(words)-2; i-- {
		if u, ok := countNouns[words[i]]; ok {
			return u
		}
		switch words[i] {
		case "histogram", "count", "avg", "max":
			continue
		}
		break
	}
	return ""
}
