package main

import (
	"math"
	"strings"
)

// Family definitions for the three bodies live in catalog_engine.go (SGLang)
// and catalog_dynamo.go (Dynamo worker and frontend); this file holds the
// bucket lists they share and which families each body carries. Names, HELP
// strings, types and bucket lists come from /work/shared/reference
// (sglang-dynamo-metrics.md, field-2026.md §2-3, the captures under
// samples/) and from the SGLang and Dynamo sources named there.

// SGLang bucket lists. Bounds are written so that Go's shortest formatting
// reproduces Python's repr of the same double, e.g.
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
	// The old per-request TPOT list from SGLang's production-metrics sample;
	// the current definition of request_time_per_output_token_seconds was
	// not in the sources at hand, so its bounds are this list.
	bucketsTPOT = []float64{0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
		0.75, 1, 2.5}

	// Disaggregation (SchedulerMetricsCollector): ms, MB and GB/s.
	bucketsKVTransferSpeed   = []float64{0.1, 0.5, 1, 5, 10, 25, 50, 100, 200, 400}
	bucketsKVTransferLatency = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000}
	bucketsKVTransferSetup   = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500}
	bucketsKVTransferSize    = []float64{1, 5, 10, 50, 100, 500, 1000, 5000, 10000}

	// HiCache (RadixCacheMetricsCollector defaults).
	bucketsEviction = []float64{0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.02, 0.03,
		0.04, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60}
	bucketsLoadBack = []float64{0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.02, 0.03,
		0.04, 0.05, 0.1, 0.2, 0.5, 1}
)

// Dynamo bucket lists. The work handler keeps the Prometheus defaults of the
// real capture; the frontend's are log-spaced from the defaults of
// lib/llm/src/http/service/metrics.rs; the router's come from
// lib/llm/src/kv_router/metrics.rs.
var (
	bucketsWorkerDuration = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	bucketsNetworkTransit = []float64{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0}

	bucketsFEDuration     = logBuckets(1, 512, 10)     // DYN_METRICS_REQUEST_DURATION_*
	bucketsFEInputTokens  = logBuckets(50, 128000, 12) // DYN_METRICS_INPUT_SEQUENCE_*, also cached_tokens
	bucketsFEOutputTokens = logBuckets(50, 32000, 10)  // DYN_METRICS_OUTPUT_SEQUENCE_*
	bucketsFETTFT         = logBuckets(0.001, 480, 18) // DYN_METRICS_TTFT_*
	bucketsFEITL          = logBuckets(0.001, 2, 13)   // DYN_METRICS_ITL_*
	bucketsFETokenizer    = []float64{0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512}
	bucketsRouterHitRate  = linearBuckets(0, 0.05, 21)       // router_kv_hit_rate
	bucketsRouterCompute  = exponentialBuckets(0.001, 2, 15) // block and sequence hashing
	bucketsRouterAsync    = exponentialBuckets(0.01, 3, 17)  // find_matches, scheduling, total
)

// logBuckets is Dynamo's generate_log_buckets: 0, then count-1 log-spaced
// bounds from min (exclusive) to max, each rounded to two significant
// figures, duplicates dropped. The arithmetic follows the Rust code step for
// step so the doubles, and so the printed `le` text, are the same.
func logBuckets(lo, hi float64, count int) []float64 {
	out := []float64{0}
	for i := 1; i < count; i++ {
		logLo, logHi := math.Log(lo), math.Log(hi)
		v := math.Exp(logLo + (logHi-logLo)*float64(i)/float64(count-1))
		magnitude := math.Floor(math.Log10(math.Abs(v)))
		scale := math.Pow(10, 2-1-magnitude)
		if r := math.Round(v*scale) / scale; r != out[len(out)-1] {
			out = append(out, r)
		}
	}
	return out
}

// linearBuckets and exponentialBuckets are the Rust prometheus crate's: they
// accumulate, so 0.15000000000000002 appears where the crate prints it.
func linearBuckets(start, width float64, count int) []float64 {
	out := make([]float64, 0, count)
	for next := start; len(out) < count; next += width {
		out = append(out, next)
	}
	return out
}

func exponentialBuckets(start, factor float64, count int) []float64 {
	out := make([]float64, 0, count)
	for next := start; len(out) < count; next *= factor {
		out = append(out, next)
	}
	return out
}

// Family groups per body, in the order the real processes emit them. The Rust
// dialect re-sorts by name, so order only matters for the Python bodies.
var (
	sglangSchedulerFamilies = []*familyDef{
		sgPerStageLatency, sgQueueTime, sgRealtimeTokens, sgCudaGraphPasses, sgPrefillEffective,
		sgSpecAcceptLength, sgSpecAcceptRate, sgSpecNumSteps, sgSpecNumDraftTokens,
		sgRetractedReqs, sgPausedReqs, sgRetractedRequests, sgRetractedInputTokens, sgRetractedOutputTokens,
		sgRunningReqs, sgUsedTokens, sgTokenUsage, sgFullTokenUsage, sgKVAvailable, sgKVEvictable, sgKVUsed,
		sgPendingPrealloc, sgDecodeSumSeqLens, sgGenThroughput, sgQueueReqs, sgGrammarQueueReqs,
		sgBootstrapQueueReqs, sgPrefillInflightQueueReqs, sgDecodePreallocQueueReqs, sgDecodeTransferQueueReqs,
		sgKVTransferSpeed, sgKVTransferLatency, sgBootstrapFailed, sgTransferFailed, sgPrefillRetries,
		sgKVTransferBootstrap, sgKVTransferAlloc, sgKVTransferTotalMB,
		sgCacheHitRate, sgHiCacheHostUsed, sgHiCacheHostTotal, sgHiCacheHostPoolUsed,
		sgMaxTotalTokens, sgContextLen, sgPageSize, sgUtilization, sgNewTokenRatio, sgIsCudaGraph,
		sgEPLBBalancedness,
	}
	sglangKVTransferFamilies = []*familyDef{sgKVTransferTimeouts}
	sglangTokenizerFamilies  = []*familyDef{
		sgStartupTime, sgPromptTokens, sgGenTokens, sgSpecVerifyCalls, sgPromptHist, sgUncachedPromptHist,
		sgGenerationHist, sgCachedTokens, sgNumRequests, sgAborted, sgTTFT, sgITL, sgE2E, sgTPOT, sgProcessCPU,
	}
	sglangRadixCacheFamilies = []*familyDef{
		sgEvictionDuration, sgEvictedTokens, sgLoadBackDuration, sgLoadBackTokens, sgPrefetchOutcomes,
	}
	sglangServerFamilies  = []*familyDef{sgHTTPRequests, sgHTTPResponses, sgHTTPActive, sgFuncLatency}
	pythonRuntimeFamilies = []*familyDef{
		pyGCCollected, pyGCUncollectable, pyGCCollections, pyInfo, procVirtualMemory, procResidentMem,
		procStartTime, procCPUSeconds, procOpenFDs, procMaxFDs,
	}
	dynamoWorkerFamilies = []*familyDef{
		dyCancellations, dyErrors, dyInflight, dyRequestBytes, dyResponseBytes, dyRequests, dyRequestDuration,
		dyUptime, dyNetworkTransit, dyTokioAliveTasks, dyTokioBlockingThreads, dyTokioGlobalQueue,
		dyTokioMeanPoll, dyTokioBusyRatio,
	}
	dynamoBackendFamilies  = []*familyDef{dyTotalBlocks, dyGPUCacheUsage, dyModelLoadTime}
	dynamoFrontendFamilies = []*familyDef{
		feDisconnected, feInflight, feActive, feQueued, feStageRequests, feRequests, feOutputTokens, feDuration,
		feInputSeqTokens, feCachedTokens, feOutputSeq, feTTFT, feITL, feTokenizerLatency,
		feModelContextLength, feModelKVBlockSize, feModelMaxBatchedTokens, feModelMaxNumSeqs,
		feModelMigrationLimit, feModelTotalKVBlocks, feMigrations, feCancellations, feRejections,
		feWorkerActiveDecodeBlocks, feWorkerActivePrefillTokens, feLoraChurnLoads,
		rtKVHitRate, rtKVEventsApplied, rtOverheadBlockHashing, rtOverheadFindMatches, rtOverheadSeqHashing,
		rtOverheadScheduling, rtOverheadTotal,
	}
)

// passthroughFilter is Dynamo's metric_prefix_filters=["sglang:"] applied to
// what an embedded sgl.Engine (no FastAPI server) would have registered.
func passthroughFilter(d *familyDef) bool {
	return strings.HasPrefix(d.name, "sglang:") && !d.serverOnly
}
