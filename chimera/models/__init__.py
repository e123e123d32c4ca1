"""Models: the tiny Qwen3-VL built from config, a real local checkpoint, and the one way to load either."""
