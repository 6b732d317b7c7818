// OpenAI Responses API wire types (POST /v1/responses). Only what the gateway reads or builds is
// typed; every other field passes through untouched.

/** One input item: a message (`role` + content), a function call, or a function call's output. */
export type ResponsesInputItem =
  | { type?: 'message'; role: 'user' | 'assistant' | 'system' | 'developer'; content: string | ResponsesContentPart[]; [k: string]: unknown }
  | { type: 'function_call'; call_id: string; name: string; arguments: string; id?: string; [k: string]: unknown }
  | { type: 'function_call_output'; call_id: string; output: string | unknown[]; [k: string]: unknown }
  | { type: string; [k: string]: unknown };

/** `input_text` / `output_text` / `input_image` and friends. */
export type ResponsesContentPart = { type: string; text?: string; image_url?: string; [k: string]: unknown };

export type ResponsesOutputItem =
  | { type: 'message'; id: string; role: 'assistant'; status: string; content: Array<{ type: 'output_text'; text: string; annotations: unknown[]; [k: string]: unknown }> }
  | { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: string }
  | { type: string; id?: string; [k: string]: unknown };

export interface ResponsesUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  input_tokens_details?: { cached_tokens: number };
  output_tokens_details?: { reasoning_tokens: number };
}

/** The `response` object: what a non-streaming call returns and what lifecycle events carry. */
export interface ResponsesResponse {
  id: string;
  object: 'response';
  created_at: number;
  status: 'completed' | 'in_progress' | 'incomplete' | 'failed' | string;
  model: string;
  output: ResponsesOutputItem[];
  usage?: ResponsesUsage | null;
  [k: string]: unknown;
}

/** One streamed event (`response.created`, `response.output_text.delta`, ...), as sent in `data:`. */
export interface ResponsesStreamEvent {
  type: string;
  sequence_number: number;
  [k: string]: unknown;
}
