package main

// SGLang families as python/sglang/srt/observability/metrics_collector.py
// (and kv_transfer_metrics.py) register them. Scheduler families carry the
// scheduler label set (engine_type, model_name, moe_ep_rank, pp_rank,
// tp_rank, dp_rank with DP); tokenizer families carry engine_type and
// model_name.

// Scheduler: batch state, memory, retraction, speculative decoding.
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
	sgRetractedReqs         = gaugeDef("sglang:num_retracted_reqs", "The number of retracted requests.")
	sgPausedReqs            = gaugeDef("sglang:num_paused_reqs", "The number of paused requests by async weight sync.")
	sgRetractedRequests     = counterDef("sglang:num_retracted_requests_total", "Total number of retracted requests.")
	sgRetractedInputTokens  = counterDef("sglang:num_retracted_input_tokens_total", "Total number of retracted input tokens.")
	sgRetractedOutputTokens = counterDef("sglang:num_retracted_output_tokens_total", "Total number of retracted output tokens.")
	sgRunningReqs           = gaugeDef("sglang:num_running_reqs", "The number of running requests.")
	sgUsedTokens            = gaugeDef("sglang:num_used_tokens", "The number of used tokens.")
	sgTokenUsage            = gaugeDef("sglang:token_usage", "The token usage.")
	sgFullTokenUsage        = gaugeDef("sglang:full_token_usage", "The token usage for full attention layers.")
	sgKVAvailable           = gaugeDef("sglang:kv_available_tokens", "Number of free token slots in the KV cache pool.")
	sgKVEvictable           = gaugeDef("sglang:kv_evictable_tokens", "Number of evictable (radix-cached) token slots in the KV cache pool.")
	sgKVUsed                = gaugeDef("sglang:kv_used_tokens", "Number of actively used token slots in the KV cache pool.")
	sgDecodeSumSeqLens      = gaugeDef("sglang:decode_sum_seq_lens", "The sum of all sequence lengths in decode.")
	sgGenThroughput         = gaugeDef("sglang:gen_throughput", "The generation throughput (token/s).")
	sgQueueReqs             = gaugeDef("sglang:num_queue_reqs", "The number of requests in the waiting queue.")
	sgGrammarQueueReqs      = gaugeDef("sglang:num_grammar_queue_reqs", "The number of requests in the grammar waiting queue.")
	sgCacheHitRate          = gaugeDef("sglang:cache_hit_rate", "The prefix cache hit rate.")
	sgMaxTotalTokens        = gaugeDef("sglang:max_total_num_tokens", "Maximum total number of tokens in the KV cache pool.")
	sgContextLen            = gaugeDef("sglang:context_len", "Maximum context length.")
	sgPageSize              = gaugeDef("sglang:page_size", "KV cache page size in tokens.")
	sgUtilization           = gaugeDef("sglang:utilization", "The utilization.")
	sgNewTokenRatio         = gaugeDef("sglang:new_token_ratio", "The new token ratio.")
	sgIsCudaGraph           = gaugeDef("sglang:is_cuda_graph", "Whether the batch is using CUDA graph.")
	sgEPLBBalancedness      = summaryDef("sglang:eplb_balancedness", "Balancedness of MoE in expert parallelism.")
	sgPendingPrealloc       = gaugeDef("sglang:pending_prealloc_token_usage", "The token usage for pending preallocated tokens (not preallocated yet).")

	sgSpecAcceptLength = gaugeDef("sglang:spec_accept_length",
		"Mean acceptance length of speculative decoding (accepted drafts + bonus token per forward).")
	sgSpecAcceptRate = gaugeDef("sglang:spec_accept_rate",
		"Speculative acceptance rate (`accepted drafts / proposed drafts` in batch).")
	sgSpecNumSteps       = gaugeDef("sglang:spec_num_steps", "Currently active speculative_num_steps.")
	sgSpecNumDraftTokens = gaugeDef("sglang:spec_num_draft_tokens",
		"Currently active speculative_num_draft_tokens (decouples from steps under topk>1).")
)

// Scheduler: prefill/decode disaggregation. The queue gauges are set on
// every engine (0 outside PD, as in the real unified capture); the transfer
// histograms and failure counters only move on prefill and decode workers.
var (
	sgBootstrapQueueReqs       = gaugeDef("sglang:num_prefill_bootstrap_queue_reqs", "The number of requests in the prefill bootstrap queue.")
	sgPrefillInflightQueueReqs = gaugeDef("sglang:num_prefill_inflight_queue_reqs", "The number of requests in the prefill inflight queue.")
	sgDecodePreallocQueueReqs  = gaugeDef("sglang:num_decode_prealloc_queue_reqs", "The number of requests in the decode prealloc queue.")
	sgDecodeTransferQueueReqs  = gaugeDef("sglang:num_decode_transfer_queue_reqs", "The number of requests in the decode transfer queue.")

	sgKVTransferSpeed = histogramDef("sglang:kv_transfer_speed_gb_s",
		"Histogram of KV cache transfer speed in GB/s.", bucketsKVTransferSpeed)
	sgKVTransferLatency = histogramDef("sglang:kv_transfer_latency_ms",
		"Histogram of KV cache transfer latency in ms.", bucketsKVTransferLatency)
	sgKVTransferBootstrap = histogramDef("sglang:kv_transfer_bootstrap_ms",
		"Histogram of KV transfer bootstrap time in ms.", bucketsKVTransferSetup)
	sgKVTransferAlloc = histogramDef("sglang:kv_transfer_alloc_ms",
		"Histogram of KV transfer allocation waiting time in ms.", bucketsKVTransferSetup)
	sgKVTransferTotalMB = histogramDef("sglang:kv_transfer_total_mb",
		"Histogram of KV cache transfer size in MB.", bucketsKVTransferSize)

	sgBootstrapFailed = counterDef("sglang:num_bootstrap_failed_reqs_total", "The number of bootstrap failed requests.")
	sgTransferFailed  = counterDef("sglang:num_transfer_failed_reqs_total", "The number of transfer failed requests.")
	sgPrefillRetries  = counterDef("sglang:num_prefill_retries_total", "Total number of prefill retries.")
	// A process-local counter with `stage` as its only label.
	sgKVTransferTimeouts = counterDef("sglang:kv_transfer_timeouts_total",
		"KV timeout observations per sender/receiver, not unique failed requests.")
)

// An older SGLang release, as the mixed fleet runs it on some workers (the
// real Dynamo worker capture in samples/ is one): the KV transfer figures are
// gauges of the same names, and the retraction counter has its old name.
// prometheus_client names a counter without its _total, so that counter and
// the sglang:num_retracted_reqs gauge cannot live in one registry (the reason
// SGLang renamed the counter): the older release prints no such gauge.
var (
	sgOldKVTransferSpeed     = gaugeDef("sglang:kv_transfer_speed_gb_s", "The transfer speed of the KV cache in GB/s.")
	sgOldKVTransferLatency   = gaugeDef("sglang:kv_transfer_latency_ms", "The transfer latency of the KV cache in ms.")
	sgOldKVTransferBootstrap = gaugeDef("sglang:kv_transfer_bootstrap_ms", "The bootstrap time of the KV transfer in ms.")
	sgOldKVTransferAlloc     = gaugeDef("sglang:kv_transfer_alloc_ms", "The allocation waiting time of the KV transfer in ms.")
	sgOldKVTransferTotalMB   = gaugeDef("sglang:kv_transfer_total_mb", "The total number of tokens transferred in the KV cache.")
	sgOldRetractedRequests   = counterDef("sglang:num_retracted_reqs_total", "Total number of retracted requests.")

	// oldRelease maps each current definition to what the older release
	// registers in its place.
	oldRelease = map[*familyDef]*familyDef{
		sgKVTransferSpeed:     sgOldKVTransferSpeed,
		sgKVTransferLatency:   sgOldKVTransferLatency,
		sgKVTransferBootstrap: sgOldKVTransferBootstrap,
		sgKVTransferAlloc:     sgOldKVTransferAlloc,
		sgKVTransferTotalMB:   sgOldKVTransferTotalMB,
		sgRetractedRequests:   sgOldRetractedRequests,
	}
	notInOldRelease = []*familyDef{sgRetractedReqs}
)

// Scheduler: hierarchical cache (HiCache). The host-tier gauges exist only
// with --enable-hierarchical-cache; the pool gauge's HELP is the demo's own
// wording (hicache_pool_stats.py names the family but not its text).
var (
	sgHiCacheHostUsed     = gaugeDef("sglang:hicache_host_used_tokens", "Number of tokens currently used in the host KV cache.")
	sgHiCacheHostTotal    = gaugeDef("sglang:hicache_host_total_tokens", "Total capacity of the host KV cache in tokens.")
	sgHiCacheHostPoolUsed = gaugeDef("sglang:hicache_host_pool_used_tokens",
		"Number of tokens currently used in each host KV cache pool.")
)

// RadixCacheMetricsCollector and StorageMetricsCollector (HiCache L2 and L3).
var (
	sgEvictionDuration = histogramDef("sglang:eviction_duration_seconds",
		"End-to-end time of a device eviction pass in seconds; under --hicache-write-policy write_back this "+
			"includes the blocking D->H backup (see sglang:hicache_backup_duration_seconds for the copy alone).",
		bucketsEviction)
	sgEvictedTokens = counterDef("sglang:evicted_tokens_total",
		"The number of device KV token slots freed by eviction, regardless of whether the data was backed up "+
			"to host (see sglang:hicache_backup_tokens_total) or destroyed (see sglang:hicache_dropped_tokens_total).")
	sgLoadBackDuration = histogramDef("sglang:load_back_duration_seconds",
		"Time taken to load KV cache from CPU back to GPU in seconds.", bucketsLoadBack)
	sgLoadBackTokens = counterDef("sglang:load_back_tokens_total",
		"The number of tokens loaded back from local host DRAM (L2) to GPU, by host pool (kv, swa, mamba, ...).")
	sgPrefetchOutcomes = counterDef("sglang:hicache_prefetch_outcomes_total",
		"HiCache L3 prefetch outcomes. The outcome label is bounded to attempts, issued, decline reasons, "+
			"and revoke reasons.")
)

// Tokenizer-side families (label set T: engine_type, model_name).
var (
	sgStartupTime        = gaugeDef("sglang:startup_time_seconds", "Engine startup duration by phase in seconds.")
	sgTTFT               = histogramDef("sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.", bucketsTTFT)
	sgITL                = histogramDef("sglang:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", bucketsITL)
	sgE2E                = histogramDef("sglang:e2e_request_latency_seconds", "Histogram of End-to-end request latency in seconds", bucketsE2E)
	sgTPOT               = histogramDef("sglang:request_time_per_output_token_seconds", "Histogram of time per output token per request in seconds.", bucketsTPOT)
	sgPromptHist         = histogramDef("sglang:prompt_tokens_histogram", "Histogram of prompt token length.", bucketsTokens)
	sgUncachedPromptHist = histogramDef("sglang:uncached_prompt_tokens_histogram", "Histogram of uncached (compute) prompt token length.", bucketsTokens)
	sgGenerationHist     = histogramDef("sglang:generation_tokens_histogram", "Histogram of generation token length.", bucketsTokens)
	sgPromptTokens       = counterDef("sglang:prompt_tokens_total", "Number of prefill tokens processed.")
	sgGenTokens          = counterDef("sglang:generation_tokens_total", "Number of generation tokens processed.")
	sgSpecVerifyCalls    = counterDef("sglang:spec_verify_calls_total", "Number of speculative decoding verification calls.")
	sgNumRequests        = counterDef("sglang:num_requests_total", "Number of requests processed.")
	sgCachedTokens       = counterDef("sglang:cached_tokens_total", "Number of cached prompt tokens by source (device/host/storage).")
	sgAborted            = counterDef("sglang:num_aborted_requests_total", "Number of requests aborted.")
	sgProcessCPU         = counterDef("sglang:process_cpu_seconds_total", "Total CPU time consumed by this process (user + system)")
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
