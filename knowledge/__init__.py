"""The policy knowledge base of 西政办发〔2013〕17号: storage, validation, retrieval and answers."""
