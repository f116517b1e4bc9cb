// AI and model platforms (OpenAI and Anthropic keys are in rules.ts): Hugging Face, Cohere,
// Perplexity, Groq, Replicate, xAI, OpenRouter, LangSmith, Langfuse, Mistral, DeepSeek, Tavily,
// Firecrawl, NVIDIA, Weights & Biases, Together, AssemblyAI, Deepgram, ElevenLabs, Pinecone.
import type { Rule } from '../rules.js';
import { AN, HEX, keyed, re, run, token, uuid } from './shapes.js';

export const AI: readonly Rule[] = [
  token({ id: 'huggingface_token', type: 'huggingface_token', description: 'Hugging Face user access token', parts: ['hf_', run(AN, 34)] }),
  token({ id: 'huggingface_org_token', type: 'huggingface_token', description: 'Hugging Face organisation API token', parts: ['api_org_', run(AN, 34)] }),
  keyed({ id: 'cohere_api_key', type: 'cohere_key', description: 'Cohere API key, named in its key', words: ['cohere', 'co_api'], value: [run(AN, 40)], entropy: 3.5 }),
  token({ id: 'perplexity_api_key', type: 'perplexity_key', description: 'Perplexity API key', parts: ['pplx-', run(AN, 48)] }),
  token({ id: 'groq_api_key', type: 'groq_key', description: 'Groq API key', parts: ['gsk_', run(AN, 52)] }),
  token({ id: 'replicate_token', type: 'replicate_token', description: 'Replicate API token', parts: ['r8_', run(AN, 37)] }),
  token({ id: 'xai_api_key', type: 'xai_key', description: 'xAI API key', parts: ['xai-', run(AN, 80)] }),
  token({ id: 'openrouter_api_key', type: 'openrouter_key', description: 'OpenRouter API key', parts: ['sk-or-v1-', run(HEX, 64)] }),
  token({ id: 'langsmith_api_key', type: 'langsmith_key', description: 'LangSmith personal or service key',
    parts: [re('lsv2_(?:pt|sk)_', 'lsv2_pt_'), run(HEX, 32), '_', run(HEX, 10)], gate: 'lsv2_(?:pt|sk)_', keywords: ['lsv2_'] }),
  token({ id: 'langfuse_secret_key', type: 'langfuse_key', description: 'Langfuse secret key', parts: ['sk-lf-', ...uuid()] }),
  keyed({ id: 'mistral_api_key', type: 'mistral_key', description: 'Mistral AI API key, named in its key', words: ['mistral'], value: [run(AN, 32)], entropy: 3.5 }),
  keyed({ id: 'deepseek_api_key', type: 'deepseek_key', description: 'DeepSeek API key, named in its key', words: ['deepseek'], value: ['sk-', run(HEX, 32)] }),
  token({ id: 'tavily_api_key', type: 'tavily_key', description: 'Tavily API key', parts: [re('tvly-(?:dev-|prod-)?', 'tvly-dev-'), run(AN, 32)], gate: 'tvly-', keywords: ['tvly-'] }),
  token({ id: 'firecrawl_api_key', type: 'firecrawl_key', description: 'Firecrawl API key', parts: ['fc-', run(HEX, 32)] }),
  token({ id: 'nvidia_api_key', type: 'nvidia_key', description: 'NVIDIA NGC / API catalog key', parts: ['nvapi-', run('A-Za-z0-9_-', 64)], entropy: 3.5 }),
  keyed({ id: 'wandb_api_key', type: 'wandb_key', description: 'Weights & Biases API key, named in its key', words: ['wandb', 'weights_and_biases'], value: [run(HEX, 40)] }),
  keyed({ id: 'together_api_key', type: 'together_key', description: 'Together AI API key, named in its key', words: ['together'], value: [run(HEX, 64)] }),
  keyed({ id: 'assemblyai_api_key', type: 'assemblyai_key', description: 'AssemblyAI API key, named in its key', words: ['assemblyai', 'assembly_ai'], value: [run(HEX, 32)] }),
  keyed({ id: 'deepgram_api_key', type: 'deepgram_key', description: 'Deepgram API key, named in its key', words: ['deepgram'], value: [run(HEX, 40)] }),
  keyed({ id: 'elevenlabs_api_key', type: 'elevenlabs_key', description: 'ElevenLabs API key, named in its key', words: ['elevenlabs', 'eleven_labs', 'xi_api'], value: [re('(?:sk_)?', 'sk_'), run(HEX, 32, 48)] }),
  token({ id: 'pinecone_api_key', type: 'pinecone_key', description: 'Pinecone API key', parts: ['pcsk_', run(AN, 4, 8), '_', run(AN, 40, 80)], entropy: 3.5 }),
  keyed({ id: 'pinecone_legacy_key', type: 'pinecone_key', description: 'Pinecone API key of the UUID format, named in its key', words: ['pinecone'], value: uuid() }),
  token({ id: 'anthropic_session_key', type: 'anthropic_api_key', description: 'Anthropic console session key', parts: ['sk-ant-sid01-', run('A-Za-z0-9_-', 80, 120)], entropy: 3.5 }),
];
