package main

import "strings"

// Family definitions for the three bodies. Names, HELP strings, types and
// bucket lists come from /work/shared/reference (sglang-dynamo-metrics.md
// §1.4-1.5 and §2.3-2.4, and the real captures under samples/). Where the
// reference only paraphrases a HELP string (the old NATS gauges), the Dynamo
// docs' wording is used.

// SGLang bucket lists (reference §1.5). Bounds are written so that Go's
// shortest formatting reproduces Python's repr of the same double, e.g.
// exponential_buckets(0.001, 1.62, 30) prints 0.0016200000000000001.
var (
	bucketsTTFT = []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400}
	bucketsITL  = []float64{0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040, 0.060,
		0.080, 0.100, 0.200, 0.400, 0.600, 0.800, 1, 2, 4, 6, 8}
	bucketsE2E   = []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400}
	bucketsQueue = []float64{0, 0.001, 0.005, 0.010, 0.050, 0.100, 0.200, 0.500, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50,
		60, 70, 80, 90, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000}
	bucketsTokens = []float64{100, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000,
		12500, 15000, 17500, 20000, 22500, 25000, 27500, 30000, 35000, 40000, 60000, 80000, 100000, 200000, 300000,
		400000, 600000, 800000, 1000000, 1100000}
	bucketsPerStage = []float64{0.001, 0.0016200000000000001, 0.0026244000000000007, 0.004251528,
		0.006887475360000002, 0.011157710083200004, 0.018075490334784006, 0.029282294342350097,
		0.047437316834607154, 0.07684845327206359, 0.12449449430074302, 0.20168108076720373, 0.3267233508428701,
		0.5292918283654495, 0.8574527619520282, 1.389073474362286, 2.2502990284669036, 3.6454844261163837,
		5.905684770308542, 9.567209327899839, 15.49887911119774, 25.10818416014034, 40.67525833942735,
		65.89391850987231, 106.74814798599316, 172.93199973730896, 280.1498395744405, 453.84274011059364,
		735.2252389791618, 1191.064887146242}
	bucketsFuncLatency = []float64{0.05, 0.07500000000000001, 0.1125, 0.16875, 0.253125, 0.3796875, 0.56953125,
		0.8542968750000001, 1.2814453125, 1.9221679687500002, 2.8832519531250003, 4.3248779296875,
		6.487316894531251, 9.730975341796876, 14.596463012695313, 21.89469451904297, 32.84204177856446,
		49.26306266784668}
)

// Dynamo bucket lists: the worker and frontend lists are the ones in the real
// captures (older defaults); network transit is from prometheus_names.rs.
var (
	bucketsWorkerDuration = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	bucketsNetworkTransit = []float64{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0}
	bucketsFEDuration     = []float64{0, 1.9, 3.4, 6.3, 12, 22, 40, 75, 140, 260}
	bucketsFEInputTokens  = []float64{0, 100, 210, 430, 870, 1800, 3600, 7400, 15000, 31000, 63000, 130000}
	bucketsFEOutputTokens = []float64{0, 100, 210, 430, 880, 1800, 3700, 7600, 16000, 32000}
	bucketsFETTFT         = []float64{0, 0.0022, 0.0047, 0.01, 0.022, 0.047, 0.1, 0.22, 0.47, 1, 2.2, 4.7, 10, 22, 48,
		100, 220, 480}
	bucketsFEITL = []float64{0, 0.0019, 0.0035, 0.0067, 0.013, 0.024, 0.045, 0.084, 0.16, 0.3, 0.56, 1.1, 2}
)

// SGLang scheduler families (label set L; one series per exporting scheduler).
var (
	sgPerStageLatency = histogramDef("sglang:per_stage_req_latency_seconds",
		"The latency of each stage of requests.", bucketsPerStage)
	sgQueueTime = histogramDef("sglang:queue_time_seconds",
		"Histogram of queueing time in seconds.", bucketsQueue)
	sgRealtimeTokens = counterDef("sglang:realtime_tokens_total",
		"Total number of tokens processed (updated on each log interval). mode: prefill_compute, prefill_cache, decode.")
	sgCudaGraphPasses = counterDef("sglang:cuda_graph_passes_total",
		"Total number of forward passes categorized by CUDA graph.")
	sgPrefillEffective = counterDef("sglang:prefill_effective_tokens_total",
		"Effective prefill tokens with retracted-request re-counts excluded, updated on each log interval. "+
			"mode: device_hit, host_hit, storage_hit, input. Windowed prefix cache hit rate = "+
			"rate(sum of *_hit) / rate(sum of all modes); per-tier rate uses a single *_hit mode in the numerator.")
	sgRetractedReqs      = gaugeDef("sglang:num_retracted_reqs", "The number of retracted requests.")
	sgPausedReqs         = gaugeDef("sglang:num_paused_reqs", "The number of paused requests by async weight sync.")
	sgRetractedRequests  = counterDef("sglang:num_retracted_requests_total", "Total number of retracted requests.")
	sgRunningReqs        = gaugeDef("sglang:num_running_reqs", "The number of running requests.")
	sgUsedTokens         = gaugeDef("sglang:num_used_tokens", "The number of used tokens.")
	sgTokenUsage         = gaugeDef("sglang:token_usage", "The token usage.")
	sgFullTokenUsage     = gaugeDef("sglang:full_token_usage", "The token usage for full attention layers.")
	sgKVAvailable        = gaugeDef("sglang:kv_available_tokens", "Number of free token slots in the KV cache pool.")
	sgKVEvictable        = gaugeDef("sglang:kv_evictable_tokens", "Number of evictable (radix-cached) token slots in the KV cache pool.")
	sgKVUsed             = gaugeDef("sglang:kv_used_tokens", "Number of actively used token slots in the KV cache pool.")
	sgDecodeSumSeqLens   = gaugeDef("sglang:decode_sum_seq_lens", "The sum of all sequence lengths in decode.")
	sgGenThroughput      = gaugeDef("sglang:gen_throughput", "The generation throughput (token/s).")
	sgQueueReqs          = gaugeDef("sglang:num_queue_reqs", "The number of requests in the waiting queue.")
	sgGrammarQueueReqs   = gaugeDef("sglang:num_grammar_queue_reqs", "The number of requests in the grammar waiting queue.")
	sgCacheHitRate       = gaugeDef("sglang:cache_hit_rate", "The prefix cache hit rate.")
	sgMaxTotalTokens     = gaugeDef("sglang:max_total_num_tokens", "Maximum total number of tokens in the KV cache pool.")
	sgContextLen         = gaugeDef("sglang:context_len", "Maximum context length.")
	sgPageSize           = gaugeDef("sglang:page_size", "KV cache page size in tokens.")
	sgUtilization        = gaugeDef("sglang:utilization", "The utilization.")
	sgNewTokenRatio      = gaugeDef("sglang:new_token_ratio", "The new token ratio.")
	sgIsCudaGraph        = gaugeDef("sglang:is_cuda_graph", "Whether the batch is using CUDA graph.")
	sgEPLBBalancedness   = summaryDef("sglang:eplb_balancedness", "Balancedness of MoE in expert parallelism.")
	sgPendingPrealloc    = gaugeDef("sglang:pending_prealloc_token_usage", "The token usage for pending preallocated tokens (not preallocated yet).")
	sgBootstrapQueueReqs = gaugeDef("sglang:num_prefill_bootstrap_queue_reqs", "The number of requests in the prefill bootstrap queue.")
)

// SGLang tokenizer-side families (label set T: engine_type, model_name).
var (
	sgStartupTime    = gaugeDef("sglang:startup_time_seconds", "Engine startup duration by phase in seconds.")
	sgTTFT           = histogramDef("sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.", bucketsTTFT)
	sgITL            = histogramDef("sglang:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", bucketsITL)
	sgE2E            = histogramDef("sglang:e2e_request_latency_seconds", "Histogram of End-to-end request latency in seconds", bucketsE2E)
	sgPromptHist     = histogramDef("sglang:prompt_tokens_histogram", "Histogram of prompt token length.", bucketsTokens)
	sgGenerationHist = histogramDef("sglang:generation_tokens_histogram", "Histogram of generation token length.", bucketsTokens)
	sgPromptTokens   = counterDef("sglang:prompt_tokens_total", "Number of prefill tokens processed.")
	sgGenTokens      = counterDef("sglang:generation_tokens_total", "Number of generation tokens processed.")
	sgNumRequests    = counterDef("sglang:num_requests_total", "Number of requests processed.")
	sgCachedTokens   = counterDef("sglang:cached_tokens_total", "Number of cached prompt tokens by source (device/host/storage).")
	sgAborted        = counterDef("sglang:num_aborted_requests_total", "Number of requests aborted.")
	sgProcessCPU     = counterDef("sglang:process_cpu_seconds_total", "Total CPU time consumed by this process (user + system)")
)

// SGLang families that only the FastAPI HTTP server registers.
var (
	sgHTTPRequests = httpServerOnly(counterDef("sglang:http_requests_total",
		"Total number of HTTP requests by endpoint and method"))
	sgHTTPResponses = httpServerOnly(counterDef("sglang:http_responses_total",
		"Total number of HTTP responses by endpoint and status code"))
	sgHTTPActive = httpServerOnly(gaugeDef("sglang:http_requests_active",
		"Number of currently active HTTP requests"))
	sgFuncLatency = httpServerOnly(histogramDef("sglang:func_latency_seconds",
		"Function latency in seconds", bucketsFuncLatency))
)

// Unprefixed families from prometheus_client's default GC, platform and
// process collectors, which recent SGLang registers next to its own. A
// scraper keyed on `sglang:` has to drop these.
var (
	pyGCCollected     = counterDef("python_gc_objects_collected_total", "Objects collected during gc")
	pyGCUncollectable = counterDef("python_gc_objects_uncollectable_total", "Uncollectable objects found during GC")
	pyGCCollections   = counterDef("python_gc_collections_total", "Number of times this generation was collected")
	pyInfo            = gaugeDef("python_info", "Python platform information")
	procVirtualMemory = gaugeDef("process_virtual_memory_bytes", "Virtual memory size in bytes.")
	procResidentMem   = gaugeDef("process_resident_memory_bytes", "Resident memory size in bytes.")
	procStartTime     = gaugeDef("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
	procCPUSeconds    = counterDef("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
	procOpenFDs       = gaugeDef("process_open_fds", "Number of open file descriptors.")
	procMaxFDs        = gaugeDef("process_max_fds", "Maximum number of open file descriptors.")
)

// Dynamo backend worker (system status server) families.
var (
	dyCancellations   = counterDef("dynamo_component_cancellation_total", "Total number of requests cancelled by work handler")
	dyErrors          = counterDef("dynamo_component_errors_total", "Total number of errors in work handler processing")
	dyInflight        = gaugeDef("dynamo_component_inflight_requests", "Number of requests currently being processed by work handler")
	dyKVActiveBlocks  = gaugeDef("dynamo_component_kvstats_active_blocks", "Number of active KV cache blocks currently in use")
	dyKVTotalBlocks   = gaugeDef("dynamo_component_kvstats_total_blocks", "Total number of KV cache blocks available")
	dyKVCacheUsage    = gaugeDef("dynamo_component_kvstats_gpu_cache_usage_percent", "GPU cache usage as a percentage (0.0-1.0)")
	dyKVPrefixHitRate = gaugeDef("dynamo_component_kvstats_gpu_prefix_cache_hit_rate", "GPU prefix cache hit rate as a percentage (0.0-1.0)")
	dyRequestBytes    = counterDef("dynamo_component_request_bytes_total", "Total number of bytes received in requests by work handler")
	dyResponseBytes   = counterDef("dynamo_component_response_bytes_total", "Total number of bytes sent in responses by work handler")
	dyRequests        = counterDef("dynamo_component_requests_total", "Total number of requests processed by work handler")
	dyRequestDuration = histogramDef("dynamo_component_request_duration_seconds",
		"Time spent processing requests by work handler", bucketsWorkerDuration)
	dyUptime = gaugeDef("dynamo_component_uptime_seconds", "Total uptime of the DistributedRuntime in seconds")

	// The NATS service statistics are gauges even where the name ends in
	// _total: Dynamo copies NATS' own running totals into gauges.
	dyNatsActiveEndpoints = gaugeDef("dynamo_component_nats_service_active_endpoints", "Active NATS endpoints")
	dyNatsRequests        = gaugeDef("dynamo_component_nats_service_requests_total", "Total NATS service requests")
	dyNatsErrors          = gaugeDef("dynamo_component_nats_service_errors_total", "NATS service errors")
	dyNatsProcessingTotal = gaugeDef("dynamo_component_nats_service_processing_ms_total", "Total NATS processing time")
	dyNatsProcessingAvg   = gaugeDef("dynamo_component_nats_service_processing_ms_avg", "Average NATS processing time")

	dyNetworkTransit = histogramDef("dynamo_work_handler_network_transit_seconds",
		"Frontend-to-backend network transit time (cross-process wall-clock, seconds)", bucketsNetworkTransit)

	dyTokioAliveTasks      = gaugeDef("dynamo_tokio_alive_tasks", "Number of alive tasks in the runtime")
	dyTokioBlockingThreads = gaugeDef("dynamo_tokio_blocking_threads", "Number of blocking threads")
	dyTokioGlobalQueue     = gaugeDef("dynamo_tokio_global_queue_depth", "Number of tasks in the runtime global queue")
	dyTokioMeanPoll        = gaugeDef("dynamo_tokio_worker_mean_poll_time_ns", "Worker mean task poll time (nanoseconds)")
	dyTokioBusyRatio       = gaugeDef("dynamo_tokio_worker_busy_ratio", "Worker busy ratio (0-1) as integer mill ratio; >950 = saturated")
)

// Dynamo frontend families.
var (
	feDisconnected   = gaugeDef("dynamo_frontend_disconnected_clients", "Number of disconnected clients")
	feInflight       = gaugeDef("dynamo_frontend_inflight_requests", "Number of inflight requests")
	feQueued         = gaugeDef("dynamo_frontend_queued_requests", "Number of requests in HTTP processing queue")
	feRequests       = counterDef("dynamo_frontend_requests_total", "Total number of LLM requests processed")
	feOutputTokens   = counterDef("dynamo_frontend_output_tokens_total", "Total number of output tokens generated (updates in real-time)")
	feDuration       = histogramDef("dynamo_frontend_request_duration_seconds", "Duration of LLM requests", bucketsFEDuration)
	feInputSeqTokens = histogramDef("dynamo_frontend_input_sequence_tokens", "Input sequence length in tokens", bucketsFEInputTokens)
	feOutputSeq      = histogramDef("dynamo_frontend_output_sequence_tokens", "Output sequence length in tokens", bucketsFEOutputTokens)
	feTTFT           = histogramDef("dynamo_frontend_time_to_first_token_seconds", "Time to first token in seconds", bucketsFETTFT)
	feITL            = histogramDef("dynamo_frontend_inter_token_latency_seconds", "Inter-token latency in seconds", bucketsFEITL)

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

	// An IntGaugeVec in Dynamo despite the _total suffix.
	feLoraChurnLoads = gaugeDef("dynamo_frontend_lora_churn_loads_total", "Total LoRA loads (new placements) this tick")
)

// Family groups per body, in the order the real processes emit them. The Rust
// dialect re-sorts by name, so order only matters for the SGLang body.
var (
	sglangSchedulerFamilies = []*familyDef{
		sgPerStageLatency, sgQueueTime, sgRealtimeTokens, sgCudaGraphPasses, sgPrefillEffective,
		sgRetractedReqs, sgPausedReqs, sgRetractedRequests, sgRunningReqs, sgUsedTokens, sgTokenUsage,
		sgFullTokenUsage, sgKVAvailable, sgKVEvictable, sgKVUsed, sgPendingPrealloc, sgDecodeSumSeqLens,
		sgGenThroughput, sgQueueReqs, sgGrammarQueueReqs, sgBootstrapQueueReqs, sgCacheHitRate,
		sgMaxTotalTokens, sgContextLen, sgPageSize, sgUtilization, sgNewTokenRatio, sgIsCudaGraph,
		sgEPLBBalancedness,
	}
	sglangTokenizerFamilies = []*familyDef{
		sgStartupTime, sgTTFT, sgITL, sgE2E, sgPromptHist, sgGenerationHist, sgPromptTokens, sgGenTokens,
		sgNumRequests, sgCachedTokens, sgAborted, sgProcessCPU,
	}
	sglangServerFamilies  = []*familyDef{sgHTTPRequests, sgHTTPResponses, sgHTTPActive, sgFuncLatency}
	pythonRuntimeFamilies = []*familyDef{
		pyGCCollected, pyGCUncollectable, pyGCCollections, pyInfo, procVirtualMemory, procResidentMem,
		procStartTime, procCPUSeconds, procOpenFDs, procMaxFDs,
	}
	dynamoWorkerFamilies = []*familyDef{
		dyCancellations, dyErrors, dyInflight, dyKVActiveBlocks, dyKVTotalBlocks, dyKVCacheUsage,
		dyKVPrefixHitRate, dyRequestBytes, dyResponseBytes, dyRequests, dyRequestDuration, dyUptime,
		dyNatsActiveEndpoints, dyNatsRequests, dyNatsErrors, dyNatsProcessingTotal, dyNatsProcessingAvg,
		dyNetworkTransit, dyTokioAliveTasks, dyTokioBlockingThreads, dyTokioGlobalQueue, dyTokioMeanPoll,
		dyTokioBusyRatio,
	}
	dynamoFrontendFamilies = []*familyDef{
		feDisconnected, feInflight, feQueued, feRequests, feOutputTokens, feDuration, feInputSeqTokens,
		feOutputSeq, feTTFT, feITL, feModelContextLength, feModelKVBlockSize, feModelMaxBatchedTokens,
		feModelMaxNumSeqs, feModelMigrationLimit, feModelTotalKVBlocks, feLoraChurnLoads,
	}
)

// passthroughFilter is Dynamo's metric_prefix_filters=["sglang:"] applied to
// what an embedded sgl.Engine (no FastAPI server) would have registered.
func passthroughFilter(d *familyDef) bool {
	return strings.HasPrefix(d.name, "sglang:") && !d.serverOnly
}
