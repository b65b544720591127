# The ONNX importer: bad files, constant folding, external data, real exports.
# Models: tests/data/bad/ (tools/make-bad-models.py) and the fixtures in tests/data/.
mnemo_c_test(test_onnx test_onnx.c unit)
