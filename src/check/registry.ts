// Every checker rule, in the order they run. Add a rule here and nowhere else.
// Rules run after resolveRates and must never throw on partial ASTs (NaN rates, missing
// fields from inputs with syntax errors).
import type { Rule } from './rule.js';
// Names and structure
import { InterfaceNamesValid } from './rules/InterfaceNamesValid.js';
import { IdentifiersValid } from './rules/IdentifiersValid.js';
import { NamesUnique } from './rules/NamesUnique.js';
import { InterfaceInOneTree } from './rules/InterfaceInOneTree.js';
import { DefaultClassResolves } from './rules/DefaultClassResolves.js';
// Rates and numbers
import { RateWithinCeil } from './rules/RateWithinCeil.js';
import { ChildRatesWithinParent } from './rules/ChildRatesWithinParent.js';
import { CeilWithinParentCeil } from './rules/CeilWithinParentCeil.js';
import { TreeRateWithinLink } from './rules/TreeRateWithinLink.js';
import { NumbersFitKernel } from './rules/NumbersFitKernel.js';
import { ClassCountsFitKernel } from './rules/ClassCountsFitKernel.js';
import { ImqDevicesAvailable } from './rules/ImqDevicesAvailable.js';
// Matches
import { PortsInRange } from './rules/PortsInRange.js';
import { AddressesValid } from './rules/AddressesValid.js';
import { DscpInRange } from './rules/DscpInRange.js';
import { MatchConsistent } from './rules/MatchConsistent.js';
import { MarksVisible } from './rules/MarksVisible.js';
// TDMA
import { TdmaScheduleComplete } from './rules/TdmaScheduleComplete.js';
import { OneDefaultSlot } from './rules/OneDefaultSlot.js';
import { SlotsWithinFrame } from './rules/SlotsWithinFrame.js';
import { SlotsDoNotOverlap } from './rules/SlotsDoNotOverlap.js';
import { TdmaFitsTarget } from './rules/TdmaFitsTarget.js';
// Warnings
import { ClassNotShadowed } from './rules/ClassNotShadowed.js';
import { PrefixWithoutHostBits } from './rules/PrefixWithoutHostBits.js';
import { CeilGiven } from './rules/CeilGiven.js';
import { ClassReceivesTraffic } from './rules/ClassReceivesTraffic.js';
import { TdmaDefaultSlot } from './rules/TdmaDefaultSlot.js';
import { LeafValid } from './rules/LeafValid.js';
import { FairValid } from './rules/FairValid.js';
import { MatchPlacement } from './rules/MatchPlacement.js';
import { FramingValid } from './rules/FramingValid.js';
import { FeaturesAvailable } from './rules/FeaturesAvailable.js';
import { MatchExpansion } from './rules/MatchExpansion.js';
import { QueueTimeBounded } from './rules/QueueTimeBounded.js';

export const RULES: readonly Rule[] = [
  InterfaceNamesValid,
  IdentifiersValid,
  NamesUnique,
  InterfaceInOneTree,
  DefaultClassResolves,
  RateWithinCeil,
  ChildRatesWithinParent,
  CeilWithinParentCeil,
  TreeRateWithinLink,
  NumbersFitKernel,
  ClassCountsFitKernel,
  ImqDevicesAvailable,
  PortsInRange,
  AddressesValid,
  DscpInRange,
  MatchConsistent,
  MarksVisible,
  MatchPlacement,
  MatchExpansion,
  LeafValid,
  FairValid,
  FramingValid,
  FeaturesAvailable,
  TdmaScheduleComplete,
  OneDefaultSlot,
  SlotsWithinFrame,
  SlotsDoNotOverlap,
  TdmaFitsTarget,
  ClassNotShadowed,
  PrefixWithoutHostBits,
  CeilGiven,
  ClassReceivesTraffic,
  TdmaDefaultSlot,
  QueueTimeBounded,
];
