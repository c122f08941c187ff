"""The test kit: registries that drive the tests, one entry per from-scratch function
(``testkit.ops``), layer (``testkit.modules``) and optimizer or learning-rate schedule
(``testkit.optimizers``), after PyTorch's ``OpInfo``, ``ModuleInfo`` and ``OptimizerInfo``;
``testkit.common`` holds what they share (error inputs as data, declared skips).

It lives beside the tests, not in the package: the wheel ships ``nnbasics`` only.
"""
