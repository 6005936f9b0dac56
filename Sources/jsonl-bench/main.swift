print("jsonl-bench: not built yet")
