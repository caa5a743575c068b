/**
 * The text-to-speech port: an engine speaks a text with one of its voices into a WAV file; the
 * speech service (services/speech-service.ts) puts the editors' lexicon in front of it and the
 * transcoder after it. espeak-ng is the engine Debian has (espeak-ng.ts); a better Vietnamese
 * voice replaces it by implementing this interface and being handed to the content plugin.
 */

export interface TtsVoice {
  /** The engine's own voice id ("vi", "vi-vn-x-south"). */
  id: string;
  /** The language it speaks (BCP 47 primary subtag, "vi"). */
  lang: string;
  /** Shown to editors, in Vietnamese ("Miền Bắc"). */
  label: string;
}

export interface SynthesisOptions {
  /** A voice id from `voices()`. */
  voice: string;
  /** Speaking rate in words per minute (bounds in TTS_RATE). */
  rate: number;
}

/** Speaking rates every engine accepts, in words per minute. */
export const TTS_RATE = { min: 80, max: 260, default: 150 } as const;

export interface TtsEngine {
  /** Engine name recorded with the audio it made ("espeak-ng"). */
  readonly name: string;
  /** The voices it has, for the languages it was configured with. */
  voices(): Promise<TtsVoice[]>;
  /**
   * Speaks `text` (already in spoken form) into a WAV file at `output`. Fails with TTS_VOICE for
   * a voice it does not have, TTS_FAILED when the engine fails, TOOL_UNAVAILABLE when it is not
   * installed.
   */
  synthesize(text: string, output: string, o: SynthesisOptions): Promise<void>;
}
