"""SageMaker job entry points (preprocess, train, evaluate), runnable in SageMaker containers and locally.

Each job imports only ``fraud_core``, numpy, scikit-learn and the standard library: the job source
directory is this package bundled with ``fraud_core``.
"""
