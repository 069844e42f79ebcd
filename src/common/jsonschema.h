/*
 * jsonschema.h: checking JSON documents against a JSON Schema (draft-04).
 *
 * Service brokers (Open Service Broker API) describe the parameters a plan
 * takes as a draft-04 schema; marketd checks a request against it before
 * any broker call, so a user gets a precise message instead of the broker's
 * 400.  Debian has no C JSON Schema library, hence this one, which covers
 * the keywords brokers use and leaves every other keyword to the broker:
 *
 *   type (a name or an array of names), enum, required, properties,
 *   patternProperties, additionalProperties (false or a schema), minimum and
 *   maximum (with the boolean exclusiveMinimum/exclusiveMaximum), minLength
 *   and maxLength (in code points), pattern, items (a schema or an array of
 *   schemas) and additionalItems.
 *
 * patternProperties is here because additionalProperties depends on it:
 * a property a pattern matches is not "additional", and without it
 * `additionalProperties: false` would refuse valid instances.
 *
 * Semantics, per draft-04 and its test suite:
 *   - "integer" is a JSON number written without a fraction or exponent
 *     (jansson's integer): 1.0 is a number, not an integer.
 *   - enum and number comparisons are by mathematical value: 1 equals 1.0,
 *     and integers are compared with reals exactly, never through a double.
 *   - A keyword only applies to instances of its type (minimum ignores a
 *     string).
 *   - Unknown keywords are ignored, and never make a valid instance
 *     invalid.  A schema object with "$ref" is skipped whole: draft-04
 *     ignores the keywords beside a $ref, and we do not resolve references.
 *
 * Patterns are ECMA-262 regular expressions run by POSIX regex (glibc) in
 * the C.UTF-8 locale after a translation (jsonschema_regex.c): \d \w \s,
 * classes, escapes, (?:...), lazy quantifiers and `.` (no line terminators)
 * keep their ECMA meaning.  A pattern using what POSIX cannot express
 * (lookaround, backreferences, NUL, repetitions above 1000) is not checked,
 * nor is any pattern against a string longer than
 * MKT_JSONSCHEMA_PATTERN_TEXT_MAX bytes (matching time can grow with the
 * square of the length); a patternProperties entry that is not checked
 * makes additionalProperties unchecked in that schema as well.  Remaining
 * differences: `.` and classes see code points where ECMA-262 sees UTF-16
 * units (a character beyond U+FFFF is one `.`, not two), and \b counts
 * non-ASCII letters as word characters.
 *
 * A schema comes from a broker, so it is untrusted: mkt_jsonschema_new()
 * checks the shape of every keyword above, compiles every pattern, and
 * refuses subschemas (and enum values) nested deeper than
 * MKT_JSONSCHEMA_MAX_DEPTH, which also bounds the recursion of validation.
 */
#ifndef MKT_JSONSCHEMA_H
#define MKT_JSONSCHEMA_H

#include <jansson.h>

#define MKT_JSONSCHEMA_MAX_DEPTH 64
#define MKT_JSONSCHEMA_PATTERN_TEXT_MAX 4096

typedef struct mkt_jsonschema mkt_jsonschema;

/* Check @schema and compile its patterns.  0 with *out (free with
 * mkt_jsonschema_free), or MKT_EINVAL with a message naming the schema
 * location as a JSON pointer ("schema #/properties/size/maximum: ...").
 * *out holds a reference to @schema, which must not change while *out
 * lives. */
int mkt_jsonschema_new(mkt_jsonschema **out, json_t *schema);

/* 0 when @instance is valid.  Otherwise MKT_EINVAL with one message about
 * the first violation, led by its path from @root ("parameters.size: 70 is
 * greater than the maximum 64"; "parameters.tags[2]", `parameters["a b"]`).
 * @root NULL reads as "$".  Safe to call from several threads at once. */
int mkt_jsonschema_validate(const mkt_jsonschema *s, const json_t *instance, const char *root);

void mkt_jsonschema_free(mkt_jsonschema *s);   /* accepts NULL */

#endif
