import { Document, Scalar, visit } from 'yaml'

/**
 * Plain scalars that YAML 1.1 resolves to something other than a string, from the YAML 1.1
 * type repository (yaml.org/type: bool, int, float, null, timestamp, merge, value) widened to
 * PyYAML's variants of the same patterns. The `yaml` package writes YAML 1.2, where all of these
 * are strings and so stay unquoted; PyYAML, js-yaml's YAML 1.1 schema and Go's YAML 1.1-ish
 * parsers (Prometheus, Grafana) read them as booleans, numbers, dates, nulls, merge keys or the
 * `=` value tag instead.
 */
const YAML_1_1_NON_STRINGS: readonly RegExp[] = [
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^[-+]?(?:0b[01_]+|0[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^[-+]?(?:[0-9][0-9_]*)?\.[0-9._]*(?:[eE][-+]?[0-9]+)?$/,
  /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:~|null|Null|NULL|)$/,
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/,
  /^(?:<<|=)$/,
]

/** Whether a YAML 1.1 parser would read `text`, written as a plain scalar, as a non-string. */
export const yaml11ReadsAsNonString = (text: string): boolean =>
  YAML_1_1_NON_STRINGS.some((pattern) => pattern.test(text))

/** Numbers as YAML 1.1 (PyYAML's patterns) and YAML 1.2 both read them. */
const PORTABLE_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+][0-9]+)?)?$/

/**
 * `doc` as text that YAML 1.1 and YAML 1.2 parsers read alike: every string scalar (key or
 * value) that YAML 1.1 would read as something else is double-quoted. A finite number whose
 * JSON form YAML 1.1 reads as a string (such as `1e+21`) throws rather than change meaning.
 */
export const portableYaml = (doc: Document): string => {
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === 'string' && yaml11ReadsAsNonString(node.value)) {
        node.type = Scalar.QUOTE_DOUBLE
      } else if (
        typeof node.value === 'number' &&
        Number.isFinite(node.value) &&
        !PORTABLE_NUMBER.test(JSON.stringify(node.value))
      ) {
        throw new Error(`no YAML form of ${node.value} reads the same in YAML 1.1 and 1.2`)
      }
    },
  })
  return doc.toString({ lineWidth: 0 })
}

/** The YAML document of a plain value: no anchors or aliases for repeated objects. */
export const yamlDocument = (value: unknown): Document =>
  new Document(value, { aliasDuplicateObjects: false })
