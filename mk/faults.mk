# The fault matrix (tests/tools/faultmatrix.c): many seeded flashes through espsim under
# injected faults, each classified against the flash file espsim keeps.
#
#   make faults                  1,000 runs (FAULT_RUNS=N for another count, FAULT_SEED=S
#                                for another draw of scenarios, FAULT_JOBS=J at a time)
#
# Fails unless no run was a false success, none changed a byte outside the files' own
# sectors (every byte is compared with the pattern the flash starts from), none ended
# without a clear message, and at least 99 % of the runs with only transient faults
# (line errors 1e-4 and 1e-3, corruption 4e-4, a stall, a replugged cable) recovered. Included by the
# Makefile (uses its O, DEPS_TEST). No configuration file (ESPDOCTOR_CONFIG empty): the
# runs neither read nor write the user's.

FAULT_RUNS ?= 1000
FAULT_SEED ?= 1
FAULT_JOBS ?= 4

.PHONY: faults
faults: $(DEPS_TEST) $(O)/espdoctor $(O)/espsim $(O)/mkimage $(O)/faultmatrix
	@sh tests/js/setup.sh
	ESPDOCTOR_CONFIG= $(O)/faultmatrix --build $(O) --runs $(FAULT_RUNS) --seed $(FAULT_SEED) --jobs $(FAULT_JOBS)
