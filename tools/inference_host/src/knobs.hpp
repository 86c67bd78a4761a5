// Knob values the way Nuke's Inference node passes them: each custom knob of the .cat whose name equals a
// module attribute sets that attribute, as a float (Float_Knob) or an int (Int_Knob, Enumeration_Knob index,
// Bool_Knob 0/1). A name the module lacks, or a knob kind that does not match the attribute's type, is an
// error here as it is in Nuke.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <torch/script.h>

namespace ck {

struct KnobError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class KnobKind { Auto, Float, Int, Enum, Bool };

struct KnobSetting {
  std::string name;
  KnobKind kind = KnobKind::Auto;  // Auto: the kind that matches the attribute (what a well-made .cat sends)
  std::string text;                // the value as typed
};

// True when `arg` looks like a knob assignment: name=value or name:kind=value.
bool is_knob_argument(const std::string& arg);

// Parses name=value / name:float=value / name:int=value / name:enum=value / name:bool=value.
KnobSetting parse_knob_argument(const std::string& arg);

// Sets every knob on the module; throws KnobError naming the knob and the fix on any mismatch.
// Returns one "name=value (type)" line per knob that was set.
std::vector<std::string> apply_knobs(torch::jit::script::Module& module, const std::vector<KnobSetting>& knobs);

// "name (type)" for every attribute a Nuke knob could set (float and int attributes).
std::vector<std::string> knob_attributes(const torch::jit::script::Module& module);

}  // namespace ck
