#include "knobs.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

namespace ck {
namespace {

const char* kind_name(KnobKind kind) {
  switch (kind) {
    case KnobKind::Float: return "float";
    case KnobKind::Int: return "int";
    case KnobKind::Enum: return "enum";
    case KnobKind::Bool: return "bool";
    default: return "auto";
  }
}

bool is_valid_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (const char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

double parse_double(const KnobSetting& knob) {
  const char* begin = knob.text.c_str();
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(begin, &end);
  if (knob.text.empty() || end == begin || *end != '\0' || errno == ERANGE || !std::isfinite(value)) {
    throw KnobError("knob " + knob.name + ": '" + knob.text + "' is not a finite number");
  }
  return value;
}

int64_t parse_int(const KnobSetting& knob, const std::string& attribute_type) {
  if (knob.kind == KnobKind::Bool) {
    if (knob.text == "1" || knob.text == "true" || knob.text == "True") return 1;
    if (knob.text == "0" || knob.text == "false" || knob.text == "False") return 0;
    throw KnobError("knob " + knob.name + ": a Bool_Knob sends 0 or 1, not '" + knob.text + "'");
  }
  const char* begin = knob.text.c_str();
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(begin, &end, 10);
  if (knob.text.empty() || end == begin || *end != '\0' || errno == ERANGE) {
    throw KnobError("knob " + knob.name + ": '" + knob.text + "' is not an integer, and attribute '" + knob.name +
                    "' is " + attribute_type + " (Nuke sets int attributes from Int, Enumeration (item index) and "
                    "Bool knobs)");
  }
  if (knob.kind == KnobKind::Enum && value < 0) {
    throw KnobError("knob " + knob.name + ": an Enumeration_Knob sends an item index >= 0, not " + knob.text);
  }
  return value;
}

std::string format_value(const c10::IValue& value) {
  std::ostringstream out;
  if (value.isDouble()) {
    out << value.toDouble();
  } else if (value.isInt()) {
    out << value.toInt();
  } else {
    out << value;
  }
  return out.str();
}

}  // namespace

bool is_knob_argument(const std::string& arg) {
  return !arg.empty() && arg[0] != '-' && arg.find('=') != std::string::npos;
}

KnobSetting parse_knob_argument(const std::string& arg) {
  KnobSetting knob;
  const auto eq = arg.find('=');
  std::string left = arg.substr(0, eq);
  knob.text = arg.substr(eq + 1);
  const auto colon = left.find(':');
  if (colon != std::string::npos) {
    const std::string kind = left.substr(colon + 1);
    left = left.substr(0, colon);
    if (kind == "float") knob.kind = KnobKind::Float;
    else if (kind == "int") knob.kind = KnobKind::Int;
    else if (kind == "enum") knob.kind = KnobKind::Enum;
    else if (kind == "bool") knob.kind = KnobKind::Bool;
    else throw KnobError("knob " + left + ": unknown knob kind '" + kind + "' (use float, int, enum or bool)");
  }
  if (!is_valid_name(left)) {
    throw KnobError("'" + arg + "' is not a knob setting: expected name=value with a Python identifier as name");
  }
  knob.name = left;
  return knob;
}

std::vector<std::string> knob_attributes(const torch::jit::script::Module& module) {
  std::vector<std::string> names;
  const auto type = module.type();
  for (size_t i = 0; i < type->numAttributes(); ++i) {
    const auto kind = type->getAttribute(i)->kind();
    if (kind == c10::TypeKind::FloatType || kind == c10::TypeKind::IntType) {
      names.push_back(type->getAttributeName(i) + " (" + type->getAttribute(i)->repr_str() + ")");
    }
  }
  return names;
}

std::vector<std::string> apply_knobs(torch::jit::script::Module& module, const std::vector<KnobSetting>& knobs) {
  std::vector<std::string> applied;
  std::set<std::string> seen;
  const auto type = module.type();
  for (const auto& knob : knobs) {
    if (!seen.insert(knob.name).second) {
      throw KnobError("knob " + knob.name + " is given twice; a .cat has one knob per name");
    }
    if (type->hasConstant(knob.name)) {
      throw KnobError("knob " + knob.name + ": the model declares '" + knob.name +
                      "' a constant (__constants__ / Final), which no knob can change; make it an annotated "
                      "attribute in the exporter");
    }
    const auto attribute = type->findAttribute(knob.name);
    if (!attribute) {
      std::string known;
      for (const auto& name : knob_attributes(module)) known += (known.empty() ? "" : ", ") + name;
      throw KnobError("the model has no attribute '" + knob.name + "', so a knob of that name does nothing in Nuke "
                      "(Nuke reports it as not found). Attributes a knob can set: " +
                      (known.empty() ? std::string("none") : known));
    }
    const auto attribute_kind = attribute->kind();
    const std::string attribute_type = attribute->repr_str();
    c10::IValue value;
    if (attribute_kind == c10::TypeKind::FloatType) {
      if (knob.kind != KnobKind::Auto && knob.kind != KnobKind::Float) {
        throw KnobError("knob " + knob.name + ": attribute '" + knob.name + "' is float, but " +
                        (knob.kind == KnobKind::Int || knob.kind == KnobKind::Enum ? "an " : "a ") +
                        kind_name(knob.kind) + " knob sends an int. Use a Float_Knob (floating point slider) "
                        "for it in CatFileCreator");
      }
      value = c10::IValue(parse_double(knob));
    } else if (attribute_kind == c10::TypeKind::IntType) {
      if (knob.kind == KnobKind::Float) {
        throw KnobError("knob " + knob.name + ": attribute '" + knob.name + "' is int, but a float knob sends a "
                        "float. Use an Int, Enumeration or Bool knob for it in CatFileCreator");
      }
      value = c10::IValue(parse_int(knob, attribute_type));
    } else if (attribute_kind == c10::TypeKind::ClassType) {
      throw KnobError("knob " + knob.name + ": '" + knob.name + "' is a submodule of the model, not a value a "
                      "knob can set");
    } else {
      throw KnobError("knob " + knob.name + ": attribute '" + knob.name + "' has type " + attribute_type +
                      ", which no Nuke knob of this host sets (float and int attributes only)");
    }
    try {
      module.setattr(knob.name, value);
    } catch (const c10::Error& error) {
      throw KnobError("knob " + knob.name + ": libtorch refused the value: " + error.what_without_backtrace());
    }
    applied.push_back(knob.name + "=" + format_value(module.attr(knob.name)) + " (" + attribute_type + ")");
  }
  return applied;
}

}  // namespace ck
