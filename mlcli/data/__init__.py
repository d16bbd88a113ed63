"""Reading data, choosing the target, inferring the task and column roles; the schema and the loaded dataset."""
