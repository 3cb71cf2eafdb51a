// Recordings (src/record): the format, writing (a Machine or a Session),
// loading, replay with divergence detection, and the exporters.
export { DEFAULT_HASH_EVERY, FORMAT, VERSION, type Drive, type EndLine, type EndStatus, type HashLine, type Header, type RecCmd } from './format.js';
export { world_parts, combine_parts, diff_parts } from './parts.js';
export { RecordingWriter, type WriterOptions } from './writer.js';
export { Recorder, make_header, type RecorderOptions } from './recorder.js';
export { record_run, type RecordRunOptions, type RecordRunResult } from './run.js';
export { RecordingError, is_recording_file, load_recording, parse_recording, recording_steps, type Recording } from './load.js';
export { Divergence, Replayer, replay_recording, type History, type PokeApplier, type ReplayOptions, type ReplayResult } from './replay.js';
export { SessionRecorder, SessionRecordingError, type RecordableSession, type SessionRecorderOptions } from './session.js';
export { session_input, type SessionInput, type RecordedPoke } from './open.js';
export { PerfettoExporter, perfetto_json, type TraceEvent } from './perfetto.js';
export { FtraceExporter, FTRACE_LINE, ftrace_name } from './ftrace.js';
export { export_recording, write_output, type ExportFormat, type ExportResult } from './export.js';
