# The trace checker must be able to say no, or the --trace test proves nothing:
# each file here breaks the contract in one way and must be rejected (exit 1),
# while a well-formed file covering the seeds is accepted (exit 0).
#   cmake -DCHECK=<jsonl checker> -DDIR=<scratch dir> -P checker_rejects.cmake
cmake_minimum_required(VERSION 3.25)

file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}")

set(good1 [[{"seed":1,"time":0,"node":1,"event":"leader","term":1}]])
set(good2 [[{"seed":2,"time":5,"node":2,"event":"apply","index":1,"value":"v\"1\u00e9"}]])

function(expect name code content)
  file(WRITE "${DIR}/${name}.jsonl" "${content}")
  execute_process(COMMAND "${CHECK}" "${DIR}/${name}.jsonl" 1 2 RESULT_VARIABLE got OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT got STREQUAL "${code}")
    message(FATAL_ERROR "${name}: the checker exited ${got}, expected ${code}\n${content}\n${out}${err}")
  endif()
  message(STATUS "${name}: exit ${got} as expected ${err}")
endfunction()

expect(well-formed 0 "${good1}\n${good2}\n")
expect(not-json 1 "${good1}\n{\"seed\":2,\"time\":5,\n")
expect(trailing-garbage 1 "${good1}\n${good2} x\n")
expect(empty-line 1 "${good1}\n\n${good2}\n")
expect(not-an-object 1 "${good1}\n[2, 5]\n")
expect(no-seed 1 "${good1}\n{\"time\":5,\"node\":2,\"event\":\"crash\"}\n")
expect(no-time 1 "${good1}\n{\"seed\":2,\"node\":2,\"event\":\"crash\"}\n")
expect(no-node 1 "${good1}\n{\"seed\":2,\"time\":5,\"event\":\"crash\"}\n")
expect(no-event 1 "${good1}\n{\"seed\":2,\"time\":5,\"node\":2}\n")
expect(seed-as-string 1 "${good1}\n{\"seed\":\"2\",\"time\":5,\"node\":2,\"event\":\"crash\"}\n")
expect(seed-out-of-range 1 "${good1}\n{\"seed\":3,\"time\":5,\"node\":2,\"event\":\"crash\"}\n")
expect(seed-missing 1 "${good1}\n")
expect(seeds-out-of-order 1 "${good2}\n${good1}\n")
expect(unknown-event 1 "${good1}\n{\"seed\":2,\"time\":5,\"node\":2,\"event\":\"explode\"}\n")
expect(apply-without-index 1 "${good1}\n{\"seed\":2,\"time\":5,\"node\":2,\"event\":\"apply\",\"value\":\"v\"}\n")
expect(value-not-a-string 1 "${good1}\n{\"seed\":2,\"time\":5,\"node\":2,\"event\":\"propose\",\"value\":7}\n")
expect(leader-without-term 1 "${good1}\n{\"seed\":2,\"time\":5,\"node\":2,\"event\":\"leader\"}\n")
expect(duplicate-key 1 "${good1}\n{\"seed\":2,\"seed\":2,\"time\":5,\"node\":2,\"event\":\"crash\"}\n")
expect(raw-control-character 1 "${good1}\n{\"seed\":2,\"time\":5,\"node\":2,\"event\":\"propose\",\"value\":\"a\tb\"}\n")
expect(bad-escape 1 "${good1}\n{\"seed\":2,\"time\":5,\"node\":2,\"event\":\"propose\",\"value\":\"a\\qb\"}\n")
expect(leading-zero 1 "${good1}\n{\"seed\":02,\"time\":5,\"node\":2,\"event\":\"crash\"}\n")
