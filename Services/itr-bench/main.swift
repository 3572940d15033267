print("itr-bench")
