"""describe: the submission metadata (define.xml, Dataset-JSON) of the datasets a run writes."""
