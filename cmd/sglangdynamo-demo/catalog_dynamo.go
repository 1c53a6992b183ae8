package main

// Dynamo families: the worker's system status server (Rust registry, plus
// the Python LLMBackendMetrics registry its SGLang component appends) and the
// frontend (lib/llm/src/http/service/metrics.rs, lib/llm/src/kv_router/
// metrics.rs). The removed dynamo_component_kvstats_* and
// dynamo_component_nats_service_* families are gone on purpose.

// Worker: the Rust work-handler and runtime families.
var (
	dyCancellations   = counterDef("dynamo_component_cancellation_total", "Total number of requests cancelled by work handler")
	dyErrors          = counterDef("dynamo_component_errors_total", "Total number of errors in work handler processing")
	dyInflight        = gaugeDef("dynamo_component_inflight_requests", "Number of requests currently being processed by work handler")
	dyRequestBytes    = counterDef("dynamo_component_request_bytes_total", "Total number of bytes received in requests by work handler")
	dyResponseBytes   = counterDef("dynamo_component_response_bytes_total", "Total number of bytes sent in responses by work handler")
	dyRequests        = counterDef("dynamo_component_requests_total", "Total number of requests processed by work handler")
	dyRequestDuration = histogramDef("dynamo_component_request_duration_seconds",
		"Time spent processing requests by work handler", bucketsWorkerDuration)
	dyUptime = gaugeDef("dynamo_component_uptime_seconds", "Total uptime of the DistributedRuntime in seconds")

	dyNetworkTransit = histogramDef("dynamo_work_handler_network_transit_seconds",
		"Frontend-to-backend network transit time (cross-process wall-clock, seconds)", bucketsNetworkTransit)

	dyTokioAliveTasks      = gaugeDef("dynamo_tokio_alive_tasks", "Number of alive tasks in the runtime")
	dyTokioBlockingThreads = gaugeDef("dynamo_tokio_blocking_threads", "Number of blocking threads")
	dyTokioGlobalQueue     = gaugeDef("dynamo_tokio_global_queue_depth", "Number of tasks in the runtime global queue")
	dyTokioMeanPoll        = gaugeDef("dynamo_tokio_worker_mean_poll_time_ns", "Worker mean task poll time (nanoseconds)")
	dyTokioBusyRatio       = gaugeDef("dynamo_tokio_worker_busy_ratio", "Worker busy ratio (0-1) as integer mill ratio; >950 = saturated")
)

// Worker: the KV stats that replaced dynamo_component_kvstats_*. They come
// from a Python registry (LLMBackendMetrics) fed by the SGLang scheduler, so
// they print in prometheus_client's dialect, after the Rust families.
var (
	dyTotalBlocks   = gaugeDef("dynamo_component_total_blocks", "Total number of KV cache blocks available on the worker.")
	dyGPUCacheUsage = gaugeDef("dynamo_component_gpu_cache_usage_percent", "GPU cache usage as a percentage (0.0-1.0).")
	dyModelLoadTime = gaugeDef("dynamo_component_model_load_time_seconds", "Model load time in seconds.")
)

// Frontend: request, latency and model-config families.
var (
	feDisconnected     = gaugeDef("dynamo_frontend_disconnected_clients", "Number of disconnected clients")
	feInflight         = gaugeDef("dynamo_frontend_inflight_requests", "Number of inflight requests")
	feActive           = gaugeDef("dynamo_frontend_active_requests", "Number of requests currently being handled by the frontend, from HTTP handler entry to response completion")
	feQueued           = gaugeDef("dynamo_frontend_queued_requests", "Number of requests in HTTP processing queue")
	feStageRequests    = gaugeDef("dynamo_frontend_stage_requests", "Number of requests currently in the given pipeline stage")
	feRequests         = counterDef("dynamo_frontend_requests_total", "Total number of LLM requests processed")
	feOutputTokens     = counterDef("dynamo_frontend_output_tokens_total", "Total number of output tokens generated (updates in real-time)")
	feDuration         = histogramDef("dynamo_frontend_request_duration_seconds", "Duration of LLM requests", bucketsFEDuration)
	feInputSeqTokens   = histogramDef("dynamo_frontend_input_sequence_tokens", "Input sequence length in tokens", bucketsFEInputTokens)
	feCachedTokens     = histogramDef("dynamo_frontend_cached_tokens", "Number of cached tokens (prefix cache hits) per request", bucketsFEInputTokens)
	feOutputSeq        = histogramDef("dynamo_frontend_output_sequence_tokens", "Output sequence length in tokens", bucketsFEOutputTokens)
	feTTFT             = histogramDef("dynamo_frontend_time_to_first_token_seconds", "Time to first token in seconds", bucketsFETTFT)
	feITL              = histogramDef("dynamo_frontend_inter_token_latency_seconds", "Inter-token latency in seconds", bucketsFEITL)
	feTokenizerLatency = histogramDef("dynamo_frontend_tokenizer_latency_ms", "Tokenizer latency in milliseconds", bucketsFETokenizer)

	feModelContextLength = gaugeDef("dynamo_frontend_model_context_length",
		"Maximum context length in tokens for a worker serving the model")
	feModelKVBlockSize = gaugeDef("dynamo_frontend_model_kv_cache_block_size",
		"KV cache block size in tokens for a worker serving the model")
	feModelMaxBatchedTokens = gaugeDef("dynamo_frontend_model_max_num_batched_tokens",
		"Maximum number of batched tokens for a worker serving the model")
	feModelMaxNumSeqs = gaugeDef("dynamo_frontend_model_max_num_seqs",
		"Maximum number of sequences for a worker serving the model")
	feModelMigrationLimit = gaugeDef("dynamo_frontend_model_migration_limit",
		"Maximum number of request migrations allowed for the model")
	feModelTotalKVBlocks = gaugeDef("dynamo_frontend_model_total_kv_blocks",
		"Total KV cache blocks available for a worker serving the model")
	feMigrations    = counterDef("dynamo_frontend_model_migration_total", "Total number of request migrations due to worker unavailability")
	feCancellations = counterDef("dynamo_frontend_model_cancellation_total", "Total number of request cancellations")
	feRejections    = counterDef("dynamo_frontend_model_rejection_total", "Total number of requests rejected due to resource exhaustion")

	feWorkerActiveDecodeBlocks  = gaugeDef("dynamo_frontend_worker_active_decode_blocks", "Active KV cache decode blocks per worker")
	feWorkerActivePrefillTokens = gaugeDef("dynamo_frontend_worker_active_prefill_tokens", "Active prefill tokens queued per worker")

	// An IntGaugeVec in Dynamo despite the _total suffix.
	feLoraChurnLoads = gaugeDef("dynamo_frontend_lora_churn_loads_total", "Total LoRA loads (new placements) this tick")
)

// Frontend in KV-router mode: the router's request histograms (component
// scoped, so dynamo_component_*), its indexer's event counter (a counter
// whose name has no _total) and the per-request routing overhead in ms.
var (
	rtKVHitRate = histogramDef("dynamo_component_router_kv_hit_rate",
		"Predicted KV cache hit rate at routing time (0.0-1.0)", bucketsRouterHitRate)
	rtKVEventsApplied = counterDef("dynamo_component_kv_cache_events_applied",
		"Total number of KV cache events applied to index")
	rtOverheadBlockHashing = histogramDef("dynamo_router_overhead_block_hashing_ms",
		"Time spent computing block hashes in milliseconds", bucketsRouterCompute)
	rtOverheadFindMatches = histogramDef("dynamo_router_overhead_indexer_find_matches_ms",
		"Time spent in indexer find_matches in milliseconds", bucketsRouterAsync)
	rtOverheadSeqHashing = histogramDef("dynamo_router_overhead_seq_hashing_ms",
		"Time spent computing sequence hashes in milliseconds", bucketsRouterCompute)
	rtOverheadScheduling = histogramDef("dynamo_router_overhead_scheduling_ms",
		"Time spent in scheduler worker selection in milliseconds", bucketsRouterAsync)
	rtOverheadTotal = histogramDef("dynamo_router_overhead_total_ms",
		"Total routing overhead per request in milliseconds", bucketsRouterAsync)
)
